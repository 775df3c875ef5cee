/// One rule of `policy.yaml`: conditions (all must hold; a list matches any of its
/// items), then either a terminal action that decides, or effects gathered on the way.
///
/// An immutable class: deciding walks the rules for every request, and a struct this
/// size would be copied, field by reference-counted field, at each step.
public final class Rule: Sendable, Equatable {
    /// A condition and its values, in the order the rule lists them.
    public enum Condition: Sendable, Equatable {
        case classes(Set<String>)
        case clients([IPAddressRange])
        case hosts(HostSet)
        case zone(Zone)
        case paths([PathPattern])
        case methods(Set<String>)
        /// Words anywhere in the URL (host, decoded path and query), ignoring case.
        case urlKeywords([String])
        /// The moment of the request falls in one of these windows.
        case schedule([Schedule])
        /// The visitor signed in as one of these accounts.
        case accounts(Set<String>)
        /// The visitor signed in (true) or did not (false).
        case signedIn(Bool)
        /// Words in the page's text (whole words, case ignored), E2Guardian's phrase filter.
        case contentKeywords([String])

        /// The key in `policy.yaml`.
        public var key: String {
            switch self {
            case .classes: "classes"
            case .clients: "clients"
            case .hosts: "hosts"
            case .zone: "zone"
            case .paths: "paths"
            case .methods: "methods"
            case .urlKeywords: "url_keywords"
            case .schedule: "schedule"
            case .accounts: "accounts"
            case .signedIn: "signed_in"
            case .contentKeywords: "content_keywords"
            }
        }

        /// Whether the request satisfies this condition.
        public func holds(for request: RequestFacts) -> Bool {
            switch self {
            case .classes(let names): names.contains(request.visitorClass)
            case .clients(let ranges): request.clientAddress.map { address in ranges.contains { $0.contains(address) } } ?? false
            case .hosts(let hosts): hosts.contains(request.host)
            case .zone(let zone): request.zone == zone
            case .paths(let patterns): patterns.contains { $0.matches(request.path) }
            case .methods(let names): names.contains(request.method)
            case .urlKeywords(let words): URLKeywords.anyIn(request, of: words)
            case .schedule(let windows): windows.contains { $0.contains(request.time) }
            case .accounts(let names): request.account.map(names.contains) ?? false
            case .signedIn(let wanted): (request.account != nil) == wanted
            case .contentKeywords(let words): words.contains { request.contentWords.contains($0) }
            }
        }

        /// The condition in words, for `explain`.
        public var wording: String {
            switch self {
            case .classes(let names): "the visitor is \(names.sorted().joined(separator: " or "))"
            case .clients(let ranges): "the client address is in \(ranges.map(\.description).joined(separator: " or "))"
            case .hosts(let hosts): "the host is \(hosts)"
            case .zone(let zone): "the site is on the \(zone.rawValue)"
            case .paths(let patterns): "the path is \(patterns.map(\.description).joined(separator: " or "))"
            case .methods(let names): "the method is \(names.sorted().joined(separator: " or "))"
            case .urlKeywords(let words): "the address contains \(words.map { "“\($0)”" }.joined(separator: " or "))"
            case .schedule(let windows): "the time is \(windows.map(\.description).joined(separator: " or "))"
            case .accounts(let names): "the visitor signed in as \(names.sorted().joined(separator: " or "))"
            case .signedIn(let wanted): wanted ? "the visitor signed in" : "the visitor did not sign in"
            case .contentKeywords(let words): "the page contains \(words.map { "“\($0)”" }.joined(separator: " or "))"
            }
        }
    }

    /// Unique name, shown in traces and (when teaching) on block pages.
    public let id: String
    /// Why the rule exists, in a sentence a student can read.
    public let reason: String
    public let conditions: [Condition]
    /// The decision, or nil for a rule that only adds effects.
    public let action: CensorStyle?
    public let effects: [Effect]
    /// Evaluated and reported as "would have", never applied.
    public let shadow: Bool

    public init(id: String, reason: String, conditions: [Condition], action: CensorStyle?, effects: [Effect] = [], shadow: Bool = false) {
        self.id = id
        self.reason = reason
        self.conditions = conditions
        self.action = action
        self.effects = effects
        self.shadow = shadow
    }

    public static func == (a: Rule, b: Rule) -> Bool {
        a.id == b.id && a.reason == b.reason && a.conditions == b.conditions && a.action == b.action
            && a.effects == b.effects && a.shadow == b.shadow
    }

    /// Whether every condition holds (without saying which one failed).
    public func matches(_ request: RequestFacts) -> Bool {
        for condition in conditions where !condition.holds(for: request) { return false }
        return true
    }

    /// The first condition the request fails, or nil when the rule matches.
    public func firstFailingCondition(for request: RequestFacts) -> Condition? {
        conditions.first { !$0.holds(for: request) }
    }
}

/// What the policy knows about a request: facts in, so deciding needs no I/O.
///
/// The optional facts (the client's address, the account) are kept in plain stored
/// properties behind optional accessors: with `Optional` fields of references this large
/// a struct was copied whole out of its own initialiser (Swift 6.3, `-O`; reproduced in
/// a file of 25 lines), a retain and a release per field on every request.
public struct RequestFacts: Sendable, Equatable {
    public var visitorClass: String
    /// The client's address bytes (4 or 16), if known.
    public var clientAddress: [UInt8]? {
        get { knownClientAddress.isEmpty ? nil : knownClientAddress }
        set { knownClientAddress = newValue ?? [] }
    }
    /// The address's bytes, empty when unknown (no address has none).
    private var knownClientAddress: [UInt8]
    /// Normalised host name.
    public var host: String
    /// The zone of the site the host names, nil for an address that does not exist.
    public var zone: Zone?
    /// Decoded path without query.
    public var path: String
    public var method: String
    /// The query as sent (percent-encoded, without `?`); decoded only if a rule looks at it.
    public var query: String
    /// The account the visitor signed in as, if any.
    public var account: String? {
        get { isSignedIn ? accountName : nil }
        set {
            isSignedIn = newValue != nil
            accountName = newValue ?? ""
        }
    }
    private var accountName: String
    private var isSignedIn: Bool
    /// When the request arrived, in seconds since 1970 (UTC), for `schedule` conditions.
    public var time: Int64
    /// Which of the policy's `content_keywords` the page's text contains (lower-cased,
    /// as configured); empty when the page is not HTML or no rule looks at content.
    public var contentWords: Set<String> = []

    public init(
        visitorClass: String, clientAddress: [UInt8]? = nil, host: String, zone: Zone?, path: String = "/",
        method: String = "GET", query: String = "", account: String? = nil, time: Int64 = 0
    ) {
        self.accountName = account ?? ""
        self.isSignedIn = account != nil
        self.time = time
        self.visitorClass = visitorClass
        self.knownClientAddress = clientAddress ?? []
        self.host = host
        self.zone = zone
        self.path = path
        self.method = method
        self.query = query
    }
}
