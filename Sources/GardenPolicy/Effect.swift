/// A non-terminal consequence gathered on the way to a decision: rules without an action
/// add effects, and the request carries all of them to the deciding rule.
public enum Effect: Sendable, Equatable, CustomStringConvertible {
    /// Flag the request in the surveillance log.
    case monitor
    /// Slow the answer down: a bandwidth cap and a delay before the first byte (`ThrottleHandler`).
    case throttle(Throttle)
    /// Change the page on its way out (the HTML rewriter).
    case rewrite(RewriteSet)

    /// The effect names as written in `policy.yaml`.
    static let names = ["monitor", "throttle", "rewrite"]

    public var name: String {
        switch self {
        case .monitor: "monitor"
        case .throttle: "throttle"
        case .rewrite: "rewrite"
        }
    }

    /// A `rewrite` effect (of whatever settings).
    public var isRewrite: Bool {
        if case .rewrite = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .monitor: "monitor"
        case .throttle(let throttle): "throttle (\(throttle))"
        case .rewrite(let rewrite): "rewrite (\(rewrite))"
        }
    }
}

/// The settings of a `throttle` effect, modelled on Russia's 2021 slowing of Twitter:
/// a bandwidth cap and a delay before the first byte.
public struct Throttle: Sendable, Equatable, CustomStringConvertible {
    /// Bytes per second per connection, or nil for no cap.
    public var bytesPerSecond: Int?
    /// Added before the answer's first byte, or nil for none.
    public var latency: Duration?

    public init(bytesPerSecond: Int?, latency: Duration?) {
        self.bytesPerSecond = bytesPerSecond
        self.latency = latency
    }

    public var description: String {
        var parts: [String] = []
        if let bytesPerSecond { parts.append("\(bytesPerSecond) bytes/s") }
        if let latency { parts.append("\(latency) before the first byte") }
        return parts.joined(separator: ", ")
    }
}

/// The settings of a `rewrite` effect: what the HTML rewriter changes in a page.
public struct RewriteSet: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// What happens to links that leave the hosts the visitor may reach.
    public enum LinkTreatment: String, Sendable, Equatable, CaseIterable {
        case neutralise, remove, keep
    }

    public var links: LinkTreatment?
    /// Words replaced in text, in the order written (`oppa` → `comrade`).
    public var substitutions: [Substitution]
    /// Words blacked out in text.
    public var redactions: [String]
    /// Names set in larger, bold type.
    public var emphasis: [String]
    /// A template in `Config/templates/` inserted at the top of `<body>`.
    public var banner: String?
    /// Where `banner` is written (`file:line:column`), so a missing template can be
    /// reported there; not part of the set's identity.
    public var bannerLocation: String?
    /// Stamp the viewer's identity and the time into the page.
    public var watermark: Bool

    public struct Substitution: Sendable, Hashable {
        public var word: String
        public var replacement: String

        public init(word: String, replacement: String) {
            self.word = word
            self.replacement = replacement
        }
    }

    public init(
        links: LinkTreatment? = nil, substitutions: [Substitution] = [], redactions: [String] = [], emphasis: [String] = [],
        banner: String? = nil, watermark: Bool = false
    ) {
        self.links = links
        self.substitutions = substitutions
        self.redactions = redactions
        self.emphasis = emphasis
        self.banner = banner
        self.watermark = watermark
    }

    public static func == (a: RewriteSet, b: RewriteSet) -> Bool {
        a.links == b.links && a.substitutions == b.substitutions && a.redactions == b.redactions && a.emphasis == b.emphasis
            && a.banner == b.banner && a.watermark == b.watermark
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(links)
        hasher.combine(substitutions.count)
        for substitution in substitutions {
            hasher.combine(substitution.word)
            hasher.combine(substitution.replacement)
        }
        hasher.combine(redactions)
        hasher.combine(emphasis)
        hasher.combine(banner)
        hasher.combine(watermark)
    }

    public var description: String {
        var parts: [String] = []
        if let links { parts.append("links: \(links.rawValue)") }
        if !substitutions.isEmpty { parts.append("\(substitutions.count) substitution\(substitutions.count == 1 ? "" : "s")") }
        if !redactions.isEmpty { parts.append("\(redactions.count) redacted word\(redactions.count == 1 ? "" : "s")") }
        if !emphasis.isEmpty { parts.append("\(emphasis.count) emphasised name\(emphasis.count == 1 ? "" : "s")") }
        if let banner { parts.append("banner \(banner)") }
        if watermark { parts.append("watermark") }
        return parts.joined(separator: ", ")
    }
}
