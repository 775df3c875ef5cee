/// The real upstream (`upstream:` in garden.yaml): whether allowed requests for hosts that
/// are not simulated sites may leave the garden for the real network, and how. Off by
/// default: a classroom garden fetches nothing from outside unless the teacher says so.
public struct UpstreamSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Nothing leaves the garden (allowed tunnels and fetches get 502).
        case off
        /// Allowed tunnels connect to the real host, and allowed `http://` requests are
        /// fetched from it (after the SSRF guard).
        case direct
    }

    /// What the garden does with `X-Forwarded-For` on requests it sends out.
    public enum ForwardedFor: String, Sendable, Equatable, CaseIterable {
        /// Strip it: the real internet learns nothing of the classroom's addresses.
        case remove
        /// Append the student's address to the chain (nginx's `$proxy_add_x_forwarded_for`).
        case add
        /// Pass on what the browser sent, add nothing.
        case keep
    }

    public var mode: Mode = .off
    /// Destinations the SSRF guard lets through anyway (`allow: [127.0.0.1/32]`).
    public var guardrail = DestinationGuard()
    /// How long connecting may take, for all the addresses a name resolves to together.
    public var connectTimeout: Duration = .seconds(5)
    /// How long the real host may keep a fetch waiting: for its answer's head, and
    /// between two reads of its body (504 before the head, a cut answer after).
    public var readTimeout: Duration = .seconds(30)
    /// Larger answers are not passed on (502 when the length is announced, else cut).
    public var maxResponseBytes = 64 << 20
    /// Larger request bodies (a form, an upload) get 413 and are not sent out.
    public var maxRequestBodyBytes = 1 << 20
    /// HTML pages up to this size are read whole before they are passed on, when the
    /// policy looks at content (`content_keywords`) or rewrites the page; larger ones go
    /// by unread, as a real censor lets through what it cannot afford to read. 0: none.
    public var inspectLimitBytes = 2 << 20
    /// Add `Via: 1.1 walled-garden` to what goes out and what comes back (RFC 9110 §7.6.3).
    public var via = true
    public var forwardedFor: ForwardedFor = .remove
    /// The visitor classes that may leave the garden. garden.yaml must name them with
    /// `mode: direct` (a shipped rule set that keeps citizens off the simulated outside
    /// sites would otherwise let them reach the real web); nil only in code: every class
    /// the policy lets out.
    public var classes: Set<String>?

    public init() {}

    /// Whether a visitor of `visitorClass` may reach the real network (when the policy allows it).
    public func letsOut(_ visitorClass: String) -> Bool {
        mode == .direct && (classes?.contains(visitorClass) ?? true)
    }

    static let keys = [
        "mode", "allow", "connect_timeout", "read_timeout", "max_response", "max_request_body", "inspect_limit", "via", "forwarded_for", "classes",
    ]

    /// - Parameter classes: the policy's visitor classes, to check `classes:` against (nil: unknown).
    static func parse(_ node: ConfigNode, classes known: [String: String]?, policyFile: String?) -> UpstreamSettings? {
        guard let keys = node.mapping("upstream", allowed: keys, required: ["mode"]) else { return nil }
        var settings = UpstreamSettings()
        if let mode: Mode = keys["mode"]?.oneOf("mode", kind: "upstream mode", plural: "modes") { settings.mode = mode }
        for item in keys["allow"]?.list("allow") ?? [] {
            guard let text = item.string("an allowed destination") else { continue }
            if let range = IPAddressRange(text) {
                settings.guardrail.allowed.append(range)
            } else {
                item.error("'\(text)' is not an address range; write it as 127.0.0.1/32 or ::1/128")
            }
        }
        if let value = keys["connect_timeout"]?.duration("connect_timeout", in: .milliseconds(100)...(.seconds(120))) {
            settings.connectTimeout = value
        }
        if let value = keys["read_timeout"]?.duration("read_timeout", in: .milliseconds(100)...(.seconds(3600))) {
            settings.readTimeout = value
        }
        if let value = keys["max_response"]?.byteCount("max_response", in: 1024...(1 << 40)) { settings.maxResponseBytes = value }
        if let value = keys["max_request_body"]?.byteCount("max_request_body", in: 0...(1 << 30)) { settings.maxRequestBodyBytes = value }
        if let value = keys["inspect_limit"]?.byteCount("inspect_limit", in: 0...(64 << 20)) { settings.inspectLimitBytes = value }
        if let value = keys["via"]?.boolean("via") { settings.via = value }
        if let choice: ForwardedFor = keys["forwarded_for"]?.oneOf("forwarded_for", kind: "forwarded_for setting", plural: "settings") {
            settings.forwardedFor = choice
        }
        if let items = keys["classes"]?.list("classes") {
            var named = Set<String>()
            for item in items {
                guard let name = item.string("a visitor class") else { continue }
                if let known, known[name] == nil {
                    let names = known.keys.sorted()
                    item.error(
                        "'\(name)' is not a class in \(policyFile ?? "policy.yaml")\(Suggestion.phrase(for: name, among: names)); "
                            + "classes are \(names.map { "'\($0)'" }.joined(separator: ", "))"
                    )
                }
                named.insert(name)
            }
            settings.classes = named
        } else if settings.mode == .direct, let modeNode = keys["mode"] {
            // Who may leave is said, never implied: a policy written for the simulated
            // sites says nothing of the real web.
            let example = known.map { " (classes are \($0.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")))" } ?? ""
            modeNode.error(
                "upstream: direct needs `classes:`, the visitor classes that may leave for the real internet, "
                    + "e.g. classes: [official, foreigner]\(example)"
            )
        }
        return settings
    }
}
