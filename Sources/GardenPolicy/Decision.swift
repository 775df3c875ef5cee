/// The outcome of `Policy.decide`: the action, who decided it, what was gathered on the
/// way, and a trace of every rule looked at (which `explain` puts into words).
public struct Decision: Sendable, Equatable {
    /// One rule as evaluation met it.
    public struct RuleCheck: Sendable, Equatable {
        public var ruleID: String
        /// The condition that did not hold, or nil when the rule matched.
        public var failedCondition: Rule.Condition?
        /// For a matched rule: what it did (decided, added effects, or would have, if shadow).
        public var outcome: Outcome?

        public enum Outcome: Sendable, Equatable {
            case decided(CensorStyle)
            case addedEffects([Effect])
            case wouldHave(CensorStyle)
        }
    }

    public var action: CensorStyle
    /// The deciding rule's id, or `default`.
    public var ruleID: String
    public var reason: String
    /// Effects of every matching non-shadow rule up to and including the deciding one.
    public var effects: [Effect]
    /// Shadow rules that matched, with what they would have done.
    public var shadowMatches: [(ruleID: String, action: CensorStyle)]
    public var trace: [RuleCheck]

    public static func == (a: Decision, b: Decision) -> Bool {
        a.action == b.action && a.ruleID == b.ruleID && a.reason == b.reason && a.effects == b.effects
            && a.trace == b.trace && a.shadowMatches.map(\.ruleID) == b.shadowMatches.map(\.ruleID)
            && a.shadowMatches.map(\.action) == b.shadowMatches.map(\.action)
    }
}

/// The rules of the garden: visitor classes, ordered rules and the default.
///
/// Squid's and every firewall's model, the easiest to teach: rules are read top to
/// bottom and the first matching rule with an action decides; rules without an action
/// only add effects; shadow rules are reported, never applied.
public struct Policy: Sendable, Equatable {
    /// The policy's fields, in one object: a copy of a `Policy` (each request takes one)
    /// retains one reference instead of each field's; a change to a shared copy copies
    /// the fields first (copy on write).
    private final class Storage: @unchecked Sendable {
        // @unchecked Sendable: changed only through `Policy.change`, when uniquely referenced.
        var classes: [String: String]
        var defaultClass: String
        var rules: [Rule]
        var compiled: CompiledRules
        var defaultAction: CensorStyle
        var defaultReason: String
        var addressClasses: [(ranges: [IPAddressRange], visitorClass: String)]
        var explainBlocks = false
        var accounts: [String: Account] = [:]
        var realm = "Walled Garden"
        var switches: [PolicySwitch] = []
        var allRules: [Rule] = []
        var switchedOff: [String: String] = [:]
        var hostMentions: [HostMention] = []

        init(
            classes: [String: String], defaultClass: String, rules: [Rule], defaultAction: CensorStyle, defaultReason: String,
            addressClasses: [(ranges: [IPAddressRange], visitorClass: String)]
        ) {
            self.classes = classes
            self.defaultClass = defaultClass
            self.rules = rules
            self.compiled = CompiledRules(rules)
            self.defaultAction = defaultAction
            self.defaultReason = defaultReason
            self.addressClasses = addressClasses
        }

        func copy() -> Storage {
            let copy = Storage(
                classes: classes, defaultClass: defaultClass, rules: rules, defaultAction: defaultAction, defaultReason: defaultReason,
                addressClasses: addressClasses
            )
            copy.compiled = compiled
            copy.explainBlocks = explainBlocks
            copy.accounts = accounts
            copy.realm = realm
            copy.switches = switches
            copy.allRules = allRules
            copy.switchedOff = switchedOff
            copy.hostMentions = hostMentions
            return copy
        }
    }

    private var storage: Storage

    /// Changes the fields, copying them first when another `Policy` shares them.
    private mutating func change(_ body: (Storage) -> Void) {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        body(storage)
    }

    /// Declared visitor classes, by name, with their descriptions.
    public var classes: [String: String] {
        get { storage.classes }
        set { change { $0.classes = newValue } }
    }
    /// The class of a visitor nothing else identifies.
    public var defaultClass: String {
        get { storage.defaultClass }
        set { change { $0.defaultClass = newValue } }
    }
    public var rules: [Rule] {
        get { storage.rules }
        set { change { $0.rules = newValue; $0.compiled = CompiledRules(newValue) } }
    }
    /// The rules with their index, in one object.
    private var compiled: CompiledRules { storage.compiled }
    /// What happens when no rule decides.
    public var defaultAction: CensorStyle {
        get { storage.defaultAction }
        set { change { $0.defaultAction = newValue } }
    }
    public var defaultReason: String {
        get { storage.defaultReason }
        set { change { $0.defaultReason = newValue } }
    }
    /// Classes by client address range, for visitors a listener persona does not class.
    public var addressClasses: [(ranges: [IPAddressRange], visitorClass: String)] {
        get { storage.addressClasses }
        set { change { $0.addressClasses = newValue } }
    }
    /// Teaching mode: censored pages add a teacher's note (rule, reason, class) and
    /// answers carry `X-Garden-Rule`. Off by default: in-world pages say nothing of rules.
    public var explainBlocks: Bool {
        get { storage.explainBlocks }
        set { change { $0.explainBlocks = newValue } }
    }
    /// Accounts by name: a signed-in visitor's class comes from here first.
    public var accounts: [String: Account] {
        get { storage.accounts }
        set { change { $0.accounts = newValue } }
    }
    /// The realm named in password prompts (`WWW-Authenticate: Basic realm="..."`).
    public var realm: String {
        get { storage.realm }
        set { change { $0.realm = newValue } }
    }
    /// The lesson's switches (`switches:`), each with its state.
    public var switches: [PolicySwitch] {
        get { storage.switches }
        set { change { $0.switches = newValue } }
    }
    /// Every rule in policy.yaml, those of switches that are off included (`rules` leaves
    /// them out), for the desk's Policy page.
    public var allRules: [Rule] {
        get { storage.allRules }
        set { change { $0.allRules = newValue } }
    }
    /// Rules left out because their switch is off: rule id → switch id.
    public var switchedOff: [String: String] {
        get { storage.switchedOff }
        set { change { $0.switchedOff = newValue } }
    }
    /// Every host pattern written in a rule's `hosts` (not those of `@lists`), with its
    /// place: for the warning about a name that matches no site.
    public var hostMentions: [HostMention] {
        get { storage.hostMentions }
        set { change { $0.hostMentions = newValue } }
    }

    /// A host pattern as written in a rule, and where.
    public struct HostMention: Sendable, Equatable {
        public var pattern: HostPattern
        public var rule: String
        public var diagnosticPlace: (file: String, line: Int, column: Int)

        public static func == (a: HostMention, b: HostMention) -> Bool {
            a.pattern == b.pattern && a.rule == b.rule && a.diagnosticPlace == b.diagnosticPlace
        }
    }

    public init(
        classes: [String: String], defaultClass: String, rules: [Rule], defaultAction: CensorStyle, defaultReason: String,
        addressClasses: [(ranges: [IPAddressRange], visitorClass: String)] = []
    ) {
        self.storage = Storage(
            classes: classes, defaultClass: defaultClass, rules: rules, defaultAction: defaultAction, defaultReason: defaultReason,
            addressClasses: addressClasses
        )
    }

    public static func == (a: Policy, b: Policy) -> Bool {
        a.classes == b.classes && a.defaultClass == b.defaultClass && a.rules == b.rules
            && a.defaultAction == b.defaultAction && a.defaultReason == b.defaultReason
            && a.addressClasses.map(\.ranges) == b.addressClasses.map(\.ranges)
            && a.addressClasses.map(\.visitorClass) == b.addressClasses.map(\.visitorClass)
            && a.explainBlocks == b.explainBlocks && a.accounts == b.accounts && a.realm == b.realm && a.switches == b.switches
    }

    /// The visitor's class and how it was found: the account the visitor signed in as
    /// (already checked), else the listener's persona, else the first address range that
    /// holds the client, else the default class.
    public func visitorClass(account: String? = nil, persona: String?, clientAddress: [UInt8]?) -> (visitorClass: String, how: String) {
        if let account, let found = accounts[account] { return (found.visitorClass, "signed in as \(account)") }
        if let persona { return (persona, "the listener's persona") }
        if let clientAddress {
            for entry in addressClasses where entry.ranges.contains(where: { $0.contains(clientAddress) }) {
                return (entry.visitorClass, "the client address is in \(entry.ranges.map(\.description).joined(separator: " or "))")
            }
        }
        return (defaultClass, "the default class")
    }

    /// The class of a visitor a teacher describes (`explain`, `reveal`): the account's,
    /// else the class named with `--as`, else by the address, else the default class.
    public func visitorClass(account: String?, named: String?, clientAddress: [UInt8]?) -> (visitorClass: String, how: String) {
        if let named, account.flatMap({ accounts[$0] }) == nil { return (named, "from --as") }
        return visitorClass(account: account, persona: nil, clientAddress: clientAddress)
    }

    /// A garden without rules: one class, everything allowed. What runs when there is no
    /// `policy.yaml`.
    public static let openDoor = Policy(
        classes: ["visitor": "Everyone: there are no rules yet."], defaultClass: "visitor",
        rules: [], defaultAction: .allow, defaultReason: "There is no policy: everything is allowed."
    )

    /// Whether any rule looks at the client's address (so decisions may differ by address).
    public var looksAtClients: Bool { compiled.looksAtClients }
    /// Whether any rule has a schedule (so decisions may differ from minute to minute).
    public var looksAtTime: Bool { compiled.looksAtTime }
    /// Whether any rule looks at the account (beyond the class it gives).
    public var looksAtAccounts: Bool { compiled.looksAtAccounts }

    /// Whether some rule or class tells visitors apart by who they are (address or
    /// account) rather than by the listener they came through.
    public var tellsVisitorsApart: Bool {
        looksAtClients || looksAtAccounts || !addressClasses.isEmpty || !accounts.isEmpty
    }
    /// Every word of every `content_keywords` condition: what a page's text is searched for.
    public var contentKeywords: [String] { compiled.contentKeywords }
    /// A matcher for `contentKeywords`, built once per policy: pages from the real web are
    /// read for them on every fetch.
    public var contentKeywordMatcher: WordMatcher { compiled.contentKeywordMatcher }

    /// Decides a request. Pure: the same facts always give the same decision.
    ///
    /// - Parameter tracing: record every rule looked at in `trace` (for `explain`): a
    ///   walk through every rule from the top. Without it (the data plane), only the
    ///   rules the index names as candidates are looked at, in the same order, so the
    ///   decision is the same at a cost that does not grow with the number of rules.
    public func decide(_ request: RequestFacts, tracing: Bool = true) -> Decision {
        compiled.decide(request, tracing: tracing, defaultAction: defaultAction, defaultReason: defaultReason)
    }
}

/// The rules and their index, immutable, shared by every copy of a policy.
private final class CompiledRules: Sendable {
    let rules: [Rule]
    let index: RuleIndex
    let looksAtClients: Bool
    let looksAtTime: Bool
    let looksAtAccounts: Bool
    let contentKeywords: [String]
    let contentKeywordMatcher: WordMatcher

    init(_ rules: [Rule]) {
        self.rules = rules
        self.index = RuleIndex(rules)
        let conditions = rules.flatMap(\.conditions)
        looksAtClients = conditions.contains { if case .clients = $0 { true } else { false } }
        looksAtTime = conditions.contains { if case .schedule = $0 { true } else { false } }
        looksAtAccounts = conditions.contains {
            switch $0 {
            case .accounts, .signedIn: true
            default: false
            }
        }
        var words: [String] = []
        for case .contentKeywords(let list) in conditions {
            for word in list where !words.contains(word) { words.append(word) }
        }
        contentKeywords = words
        contentKeywordMatcher = WordMatcher(finding: words)
    }

    func decide(_ request: RequestFacts, tracing: Bool, defaultAction: CensorStyle, defaultReason: String) -> Decision {
        var walk = RuleWalk()
        if tracing {
            for rule in rules where !walk.visit(rule, request, tracing: true) { break }
        } else {
            let rules = self.rules
            index.forEachCandidate(host: request.host, visitorClass: request.visitorClass) { position in
                walk.visit(rules[position], request, tracing: false)
            }
        }
        return walk.decision ?? Decision(
            action: defaultAction, ruleID: "default", reason: defaultReason, effects: walk.effects,
            shadowMatches: walk.shadow, trace: walk.trace
        )
    }
}

/// What deciding has gathered so far: effects, shadow matches, the trace, and the
/// decision once a rule makes one.
private struct RuleWalk {
    var effects: [Effect] = []
    var shadow: [(ruleID: String, action: CensorStyle)] = []
    var trace: [Decision.RuleCheck] = []
    var decision: Decision?

    /// Looks at one rule; false once a rule has decided (stop walking).
    mutating func visit(_ rule: Rule, _ request: RequestFacts, tracing: Bool) -> Bool {
        if tracing {
            if let failed = rule.firstFailingCondition(for: request) {
                trace.append(.init(ruleID: rule.id, failedCondition: failed))
                return true
            }
        } else if !rule.matches(request) {
            return true
        }
        if rule.shadow {
            if let action = rule.action {
                shadow.append((rule.id, action))
                if tracing { trace.append(.init(ruleID: rule.id, outcome: .wouldHave(action))) }
            } else if tracing {
                trace.append(.init(ruleID: rule.id, outcome: .addedEffects([])))
            }
            return true
        }
        for effect in rule.effects where !effects.contains(effect) { effects.append(effect) }
        if let action = rule.action {
            if tracing { trace.append(.init(ruleID: rule.id, outcome: .decided(action))) }
            decision = Decision(action: action, ruleID: rule.id, reason: rule.reason, effects: effects, shadowMatches: shadow, trace: trace)
            return false
        }
        if tracing { trace.append(.init(ruleID: rule.id, outcome: .addedEffects(rule.effects))) }
        return true
    }
}
