/// A lesson pack's `lesson.yaml`: what the lesson is called and what it is for, as the
/// desk and `walled-garden lesson list` show it.
///
/// A pack (`Lessons/NAME/`) holds this file, and may hold a `policy.yaml`, `lists/`,
/// `templates/` and a `switches.yaml` that stand in for the garden's own while it runs
/// (`serve --lesson NAME`), its policy tests (`tests/*.yaml`), the probes CI runs against
/// the live garden (`probes.yaml`), a teacher's guide and a student worksheet.
public struct LessonManifest: Sendable, Equatable {
    public var title: String
    /// One or two sentences: what students see and learn.
    public var summary: String
    /// How long the lesson takes, in minutes.
    public var minutes: Int

    public init(title: String, summary: String, minutes: Int) {
        self.title = title
        self.summary = summary
        self.minutes = minutes
    }

    /// Reads `lesson.yaml`.
    ///
    /// - Throws: `ConfigErrors` with a `file:line:column` diagnostic per mistake.
    public static func parse(_ source: GardenConfig.Source) throws(ConfigErrors) -> LessonManifest {
        let sink = DiagnosticSink()
        var manifest = LessonManifest(title: "", summary: "", minutes: 45)
        if let root = ConfigNode.parse(source.text, file: source.file, sink: sink),
           let keys = root.mapping("lesson.yaml", allowed: ["title", "summary", "minutes"], required: ["title", "summary"]) {
            manifest.title = keys["title"]?.string("title") ?? ""
            manifest.summary = keys["summary"]?.string("summary") ?? ""
            if let node = keys["minutes"], let minutes = node.integer("minutes", in: 5...600) { manifest.minutes = minutes }
        }
        guard sink.isEmpty else { throw ConfigErrors(sink.diagnostics) }
        return manifest
    }
}

/// One line of a pack's `probes.yaml`: a visitor class, an address, and the censorship
/// `walled-garden probe` must observe there through the live garden (CI runs them).
public struct ProbeExpectation: Sendable, Equatable {
    /// What the probe must name, as `probe` names it.
    public enum Observed: String, Sendable, CaseIterable {
        case none, block, unavailable, notfound, redirect
        case signIn = "sign-in"
        case drop, reset, stall, throttled, rewritten
    }

    /// The class whose persona listener the probe goes through.
    public var visitorClass: String
    public var url: String
    public var expected: Observed
    /// For `rewritten`: a word the changed page must show (such as `동지`).
    public var shows: String?
    /// For an `https://` address: the host the `CONNECT` names instead of the address's
    /// own, which the TLS handshake still names (as curl's `--connect-to`).
    public var connectTo: String?
    /// Where it is written, for failure messages: `file:line`.
    public var location: String

    public init(visitorClass: String, url: String, expected: Observed, shows: String? = nil, connectTo: String? = nil, location: String) {
        self.connectTo = connectTo
        self.visitorClass = visitorClass
        self.url = url
        self.expected = expected
        self.shows = shows
        self.location = location
    }

    /// Reads `probes.yaml` (`probes: [{as, url, expect, shows, connect_to}]`); `classes`
    /// are the policy's.
    public static func parse(_ source: GardenConfig.Source, classes: [String: String]) throws(ConfigErrors) -> [ProbeExpectation] {
        let sink = DiagnosticSink()
        var probes: [ProbeExpectation] = []
        if let root = ConfigNode.parse(source.text, file: source.file, sink: sink),
           let keys = root.mapping("probes.yaml", allowed: ["probes"], required: ["probes"]) {
            let names = Observed.allCases.map(\.rawValue)
            for item in keys["probes"]?.list("probes") ?? [] {
                guard let fields = item.mapping("a probe", allowed: ["as", "url", "expect", "shows", "connect_to"], required: ["as", "url", "expect"]),
                      let classNode = fields["as"], let visitorClass = classNode.string("as"),
                      let url = fields["url"]?.string("url"), let expectNode = fields["expect"], let word = expectNode.string("expect")
                else { continue }
                if !classes.isEmpty, classes[visitorClass] == nil {
                    classNode.error("unknown class '\(visitorClass)'\(Suggestion.phrase(for: visitorClass, among: classes.keys.sorted()))")
                    continue
                }
                guard let expected = Observed(rawValue: word) else {
                    expectNode.error("expect must be one of \(names.joined(separator: ", ")), not '\(word)'\(Suggestion.phrase(for: word, among: names))")
                    continue
                }
                let connectTo = fields["connect_to"]?.string("connect_to")
                if connectTo != nil, !url.hasPrefix("https://") {
                    fields["connect_to"]?.error("connect_to is for https:// addresses (a CONNECT), not '\(url)'")
                    continue
                }
                probes.append(ProbeExpectation(
                    visitorClass: visitorClass, url: url, expected: expected, shows: fields["shows"]?.string("shows"), connectTo: connectTo,
                    location: "\(source.file):\(item.line)"
                ))
            }
        }
        guard sink.isEmpty else { throw ConfigErrors(sink.diagnostics) }
        return probes
    }
}
