/// One case of `Config/tests/*.yaml`: a visitor, a URL, and what the policy must decide.
/// `walled-garden check` runs them, as `opa test` runs Rego tests.
public struct PolicyTestCase: Sendable, Equatable {
    public var name: String
    /// The visitor's class, given directly (`as:`).
    public var visitorClass: String?
    /// The listener whose persona gives the class (`listener:`), when `as:` is absent: by
    /// its persona (`listener: citizen`), or by its port in files written before that.
    public var listenerPersona: String?
    public var listenerPort: Int?
    /// The account the visitor signed in as (`account:`); its class wins over `as:`.
    public var account: String?
    /// When the request is made (`at:`, RFC 3339), for `schedule` conditions; nil for now.
    public var time: Int64?
    /// The visitor's address, for `clients` conditions.
    public var clientAddress: [UInt8]?
    public var url: String
    public var method: String
    /// The expected action name (`allow`, `notfound`, ...).
    public var expectedAction: String
    /// The expected deciding rule id (or `default`), when the case names one.
    public var expectedRule: String?
    /// Where the case is written, for failure messages: `file:line`.
    public var location: String

    /// Reads a test file; `classes` are the policy's, for checking `as:`.
    ///
    /// - Throws: `ConfigErrors` with a `file:line:column` diagnostic per mistake.
    public static func parse(
        _ source: GardenConfig.Source, classes: [String: String], accounts: Set<String> = []
    ) throws(ConfigErrors) -> [PolicyTestCase] {
        let sink = DiagnosticSink()
        var cases: [PolicyTestCase] = []
        if let root = ConfigNode.parse(source.text, file: source.file, sink: sink),
           let keys = root.mapping("a test file", allowed: ["tests"], required: ["tests"]) {
            let allowed = ["name", "as", "account", "listener", "client", "at", "url", "method", "expect", "rule"]
            for item in keys["tests"]?.list("tests") ?? [] {
                guard let fields = item.mapping("a test", allowed: allowed, required: ["name", "url", "expect"]) else { continue }
                var testCase = PolicyTestCase(
                    name: fields["name"]?.string("name") ?? "", url: fields["url"]?.string("url") ?? "",
                    method: fields["method"]?.string("method")?.uppercased() ?? "GET",
                    expectedAction: "", location: "\(source.file):\(item.line)"
                )
                if let node = fields["as"], let name = node.string("as") {
                    if classes[name] == nil {
                        let known = classes.keys.sorted()
                        node.error("unknown class '\(name)'\(Suggestion.phrase(for: name, among: known)); classes are \(known.map { "'\($0)'" }.joined(separator: ", "))")
                    }
                    testCase.visitorClass = name
                }
                if let node = fields["account"], let name = node.string("account") {
                    if !accounts.contains(name) {
                        let known = accounts.sorted()
                        node.error("unknown account '\(name)'\(Suggestion.phrase(for: name, among: known))"
                            + (known.isEmpty ? "; policy.yaml declares no accounts" : "; accounts are \(known.map { "'\($0)'" }.joined(separator: ", "))"))
                    }
                    testCase.account = name
                }
                if let node = fields["at"], let text = node.string("at") {
                    testCase.time = Schedule.moment(text)
                    if testCase.time == nil { node.error("at must be a moment such as 2026-11-30T10:00:00+09:00, not '\(text)'") }
                }
                if let node = fields["listener"] { readListener(node, into: &testCase, classes: classes) }
                if let node = fields["client"], let text = node.string("client") {
                    testCase.clientAddress = IPAddressRange.parseAddress(text)
                    if testCase.clientAddress == nil { node.error("'\(text)' is not an IP address") }
                }
                if let node = fields["expect"], let name = node.string("expect") {
                    if !CensorStyle.names.contains(name) {
                        node.error("unknown action '\(name)'\(Suggestion.phrase(for: name, among: CensorStyle.names))")
                    }
                    testCase.expectedAction = name
                }
                testCase.expectedRule = fields["rule"]?.string("rule")
                if !testCase.url.hasPrefix("http://"), !testCase.url.hasPrefix("https://") {
                    fields["url"]?.error("url must be an http:// or https:// address, such as http://friend.com.kp/")
                }
                cases.append(testCase)
            }
        }
        guard sink.isEmpty else { throw ConfigErrors(sink.diagnostics) }
        return cases
    }

    init(name: String, url: String, method: String, expectedAction: String, location: String) {
        self.name = name
        self.url = url
        self.method = method
        self.expectedAction = expectedAction
        self.location = location
    }

    /// `listener:` by its persona (`listener: official`), or by its port in older files.
    private static func readListener(_ node: ConfigNode, into testCase: inout PolicyTestCase, classes: [String: String]) {
        guard let text = node.string("listener") else { return }
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) {
            testCase.listenerPort = node.integer("listener", in: 1...65535)
            return
        }
        if classes[text] == nil {
            let known = classes.keys.sorted()
            node.error("listener '\(text)' is not a class a listener's persona can be\(Suggestion.phrase(for: text, among: known)); "
                + "name the listener by its persona: \(known.map { "'\($0)'" }.joined(separator: ", "))")
        }
        testCase.listenerPersona = text
    }
}
