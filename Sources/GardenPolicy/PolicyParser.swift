import Foundation

/// Reads `policy.yaml` into a `Policy`, reporting every mistake at its position.
struct PolicyParser {
    let sink: DiagnosticSink
    let lists: [String: GardenConfig.Source]
    var parsedLists: [String: [HostPattern]] = [:]
    /// The accounts declared, for checking `accounts` conditions.
    var accountNames: Set<String> = []
    /// Host patterns written in rules, with their places.
    var hostMentions: [Policy.HostMention] = []

    init(sink: DiagnosticSink, lists: [String: GardenConfig.Source]) {
        self.sink = sink
        self.lists = lists
    }

    static let ruleKeys = ["id", "reason", "classes", "clients", "hosts", "zone", "paths", "methods", "url_keywords",
                           "schedule", "accounts", "signed_in", "content_keywords", "action", "to", "for", "effects", "shadow"]

    mutating func parse(_ source: GardenConfig.Source) -> Policy? {
        guard let root = ConfigNode.parse(source.text, file: source.file, sink: sink),
              let keys = root.mapping("policy.yaml", allowed: ["classes", "default_class", "addresses", "accounts", "realm", "teaching", "rules", "switches", "default"],
                                      required: ["classes", "default_class", "default"])
        else { return nil }

        var classes: [String: String] = [:]
        for (name, _, value) in keys["classes"]?.namedEntries("classes") ?? [] {
            classes[name] = value.string("the description of class '\(name)'") ?? ""
        }
        if classes.isEmpty { keys["classes"]?.error("classes needs at least one visitor class") }

        var defaultClass = ""
        if let node = keys["default_class"], let name = node.string("default_class") {
            defaultClass = name
            checkClass(name, at: node, classes: classes)
        }

        let addressClasses = parseAddressClasses(keys["addresses"], classes: classes)
        let accounts = parseAccounts(keys["accounts"], classes: classes)
        let rules = parseRules(keys["rules"], classes: classes)
        let (defaultAction, defaultReason) = parseDefault(keys["default"])
        var policy = Policy(
            classes: classes, defaultClass: defaultClass, rules: rules, defaultAction: defaultAction,
            defaultReason: defaultReason, addressClasses: addressClasses
        )
        policy.accounts = accounts
        if let node = keys["realm"], let realm = node.string("realm") {
            if realm.isEmpty || realm.contains("\"") || realm.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                node.error("realm must be plain text without quotes or control characters")
            } else {
                policy.realm = realm
            }
        }
        if let teaching = keys["teaching"]?.mapping("teaching", allowed: ["explain_blocks"]),
           let explain = teaching["explain_blocks"]?.boolean("explain_blocks") {
            policy.explainBlocks = explain
        }
        if let node = keys["switches"] { policy.switches = parseSwitches(node, ruleIDs: rules.map(\.id)) }
        policy.allRules = rules
        policy.hostMentions = hostMentions
        return policy.applyingSwitches([:])
    }

    /// `addresses: [{clients: [...], class: name}]`: classes by the client's address.
    func parseAddressClasses(_ node: ConfigNode?, classes: [String: String]) -> [(ranges: [IPAddressRange], visitorClass: String)] {
        var addressClasses: [(ranges: [IPAddressRange], visitorClass: String)] = []
        for item in node?.list("addresses") ?? [] {
            guard let fields = item.mapping("an address entry", allowed: ["clients", "class"], required: ["clients", "class"]),
                  let classNode = fields["class"], let name = classNode.string("class") else { continue }
            checkClass(name, at: classNode, classes: classes)
            let ranges = (fields["clients"]?.list("clients") ?? []).compactMap { addressRange($0) }
            addressClasses.append((ranges, name))
        }
        return addressClasses
    }

    /// `accounts: {name: {class, password}}`; every declared name is kept in `accountNames`.
    mutating func parseAccounts(_ node: ConfigNode?, classes: [String: String]) -> [String: Account] {
        var accounts: [String: Account] = [:]
        let accountEntries = node?.namedEntries("accounts") ?? []
        // Every declared name counts for `accounts` conditions, even one with a mistake
        // of its own: that mistake is reported once, not again at each rule.
        self.accountNames = Set(accountEntries.map(\.name))
        for (name, keyNode, value) in accountEntries {
            guard let fields = value.mapping("account '\(name)'", allowed: ["class", "password"], required: ["class", "password"]),
                  let classNode = fields["class"], let className = classNode.string("class"),
                  let passwordNode = fields["password"], let hashText = passwordNode.string("password")
            else { continue }
            checkClass(className, at: classNode, classes: classes)
            if name.isEmpty || name.contains(":") || name.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) {
                keyNode.error("account name '\(name)' cannot be used with HTTP Basic; no spaces, colons or control characters")
            }
            switch PasswordHash.parse(hashText) {
            case .success(let hash): accounts[name] = Account(name: name, visitorClass: className, passwordHash: hash)
            case .failure(let problem): passwordNode.error("the password of account '\(name)' \(problem)")
            }
        }
        return accounts
    }

    /// `rules: [...]`, in order; ids must be unique.
    mutating func parseRules(_ node: ConfigNode?, classes: [String: String]) -> [Rule] {
        var rules: [Rule] = []
        var seenIDs: Set<String> = []
        for item in node?.list("rules") ?? [] {
            if let rule = parseRule(item, classes: classes) {
                if !seenIDs.insert(rule.id).inserted {
                    item.error("two rules have the id '\(rule.id)'; ids must be unique")
                }
                rules.append(rule)
            }
        }
        return rules
    }

    /// `default: block` or `default: {action: block, reason: ...}`: the action and reason
    /// when no rule decides.
    func parseDefault(_ node: ConfigNode?) -> (CensorStyle, String) {
        var defaultAction = CensorStyle.notFound
        var defaultReason = ""
        if let node {
            if node.isScalar {
                defaultAction = parseAction(node, settings: [:]) ?? .notFound
            } else if let settings = node.mapping("default", allowed: ["action", "reason", "to", "for"], required: ["action"]),
                      let actionNode = settings["action"] {
                defaultAction = parseAction(actionNode, settings: settings) ?? .notFound
                defaultReason = settings["reason"]?.string("reason") ?? ""
            }
        }
        return (defaultAction, defaultReason)
    }

    /// `switches: {id: {title, rules: [...], default: on|off}}`.
    func parseSwitches(_ node: ConfigNode, ruleIDs: [String]) -> [PolicySwitch] {
        var switches: [PolicySwitch] = []
        var owner: [String: String] = [:]
        for (id, keyNode, value) in node.namedEntries("switches") ?? [] {
            if id.isEmpty || !id.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }) {
                keyNode.error("switch name '\(id)' may hold only letters, digits, '-' and '_'")
            }
            guard let fields = value.mapping("switch '\(id)'", allowed: ["title", "rules", "default"], required: ["rules"]) else { continue }
            var rules: [String] = []
            for item in fields["rules"]?.list("rules") ?? [] {
                guard let rule = item.string("a rule id") else { continue }
                if !ruleIDs.contains(rule) {
                    item.error("switch '\(id)' names rule '\(rule)', which policy.yaml does not have\(Suggestion.phrase(for: rule, among: ruleIDs))")
                } else if let other = owner[rule] {
                    item.error("rule '\(rule)' is already in switch '\(other)'; a rule belongs to one switch at most")
                } else {
                    owner[rule] = id
                    rules.append(rule)
                }
            }
            var isOn = true
            if let defaultNode = fields["default"] { isOn = defaultNode.switchState("default") ?? true }
            switches.append(PolicySwitch(id: id, title: fields["title"]?.string("title") ?? id, ruleIDs: rules, isOnByDefault: isOn))
        }
        return switches
    }

    func addressRange(_ item: ConfigNode) -> IPAddressRange? {
        guard let text = item.string("a client range") else { return nil }
        guard let range = IPAddressRange(text) else {
            item.error("'\(text)' is not an address range; write it like 10.0.0.0/8, 192.168.1.20 or fd00::/8")
            return nil
        }
        return range
    }

    func checkClass(_ name: String, at node: ConfigNode, classes: [String: String]) {
        guard classes[name] == nil, !classes.isEmpty else { return }
        let known = classes.keys.sorted()
        node.error("unknown class '\(name)'\(Suggestion.phrase(for: name, among: known)); classes are \(known.map { "'\($0)'" }.joined(separator: ", "))")
    }

    mutating func parseRule(_ node: ConfigNode, classes: [String: String]) -> Rule? {
        guard let keys = node.mapping("a rule", allowed: Self.ruleKeys, required: ["id", "reason"]) else { return nil }
        let id = keys["id"]?.string("id") ?? ""
        let reason = keys["reason"]?.string("reason") ?? ""
        let conditions = parseConditions(keys, rule: id, classes: classes)
        var effects: [Effect] = []
        for item in keys["effects"]?.list("effects") ?? [] {
            if let effect = parseEffect(item) { effects.append(effect) }
        }
        var action: CensorStyle?
        if let actionNode = keys["action"] {
            action = parseAction(actionNode, settings: keys)
        } else {
            if keys["effects"] == nil { node.error("rule '\(id)' needs an 'action' or 'effects'") }
            if let extra = keys["to"] ?? keys["for"] { extra.error("'to' and 'for' belong with an action") }
        }
        let shadow = keys["shadow"]?.boolean("shadow") ?? false
        return Rule(id: id, reason: reason, conditions: conditions, action: action, effects: effects, shadow: shadow)
    }

    /// A rule's conditions (all must hold for it to apply), from its keys.
    mutating func parseConditions(_ keys: [String: ConfigNode], rule id: String, classes: [String: String]) -> [Rule.Condition] {
        var conditions: [Rule.Condition] = []
        if let list = keys["classes"]?.list("classes") {
            conditions.append(.classes(names(in: list, what: "a class") { checkClass($0, at: $1, classes: classes) }))
        }
        if let list = keys["clients"]?.list("clients") {
            conditions.append(.clients(list.compactMap { addressRange($0) }))
        }
        if let list = keys["hosts"]?.list("hosts") {
            conditions.append(.hosts(hostSet(list, rule: id)))
        }
        if let node = keys["zone"], let text = node.string("zone") {
            if let zone = Zone(rawValue: text) {
                conditions.append(.zone(zone))
            } else {
                node.error("unknown zone '\(text)'\(Suggestion.phrase(for: text, among: Zone.allCases.map(\.rawValue))); zones are 'intranet' and 'internet'")
            }
        }
        if let list = keys["paths"]?.list("paths") {
            conditions.append(.paths(list.compactMap(pathPattern)))
        }
        if let list = keys["url_keywords"]?.list("url_keywords") {
            conditions.append(.urlKeywords(words(in: list, what: "a keyword")))
        }
        if let node = keys["schedule"] {
            // One window, or a list of windows (any of them).
            let items: [ConfigNode] = node.isMapping ? [node] : (node.list("schedule") ?? [])
            conditions.append(.schedule(items.compactMap(parseSchedule)))
        }
        if let list = keys["accounts"]?.list("accounts") {
            conditions.append(.accounts(names(in: list, what: "an account") { checkAccount($0, at: $1) }))
        }
        if let list = keys["content_keywords"]?.list("content_keywords") {
            conditions.append(.contentKeywords(words(in: list, what: "a keyword")))
        }
        if let signedIn = keys["signed_in"]?.boolean("signed_in") {
            conditions.append(.signedIn(signedIn))
        }
        if let list = keys["methods"]?.list("methods") {
            conditions.append(.methods(Set(list.compactMap { $0.string("a method")?.uppercased() })))
        }
        return conditions
    }

    /// The names of a list (classes, accounts), each checked by `check`.
    func names(in list: [ConfigNode], what: String, check: (String, ConfigNode) -> Void) -> Set<String> {
        var names: Set<String> = []
        for item in list {
            guard let name = item.string(what) else { continue }
            check(name, item)
            names.insert(name)
        }
        return names
    }

    func checkAccount(_ name: String, at item: ConfigNode) {
        guard !accountNames.contains(name) else { return }
        let known = accountNames.sorted()
        item.error("unknown account '\(name)'\(Suggestion.phrase(for: name, among: known))"
            + (known.isEmpty ? "; declare it under 'accounts'" : "; accounts are \(known.map { "'\($0)'" }.joined(separator: ", "))"))
    }

    /// A `hosts` condition's patterns, with `@list` names expanded; each noted for the
    /// checks on hosts the sites do not have.
    mutating func hostSet(_ list: [ConfigNode], rule id: String) -> HostSet {
        var patterns: [HostPattern] = []
        for item in list {
            guard let text = item.string("a host") else { continue }
            if text.hasPrefix("@") {
                patterns += hostList(String(text.dropFirst()), at: item)
            } else if let pattern = HostPattern(text) {
                patterns.append(pattern)
                hostMentions.append(.init(pattern: pattern, rule: id, diagnosticPlace: (item.file, item.line, item.column)))
            } else {
                item.error("'\(text)' is not a host pattern; write friend.com.kp, *.example or @listname")
            }
        }
        return HostSet(patterns)
    }

    func pathPattern(_ item: ConfigNode) -> PathPattern? {
        guard let text = item.string("a path") else { return nil }
        guard let pattern = PathPattern(text) else {
            item.error("'\(text)' is not a path pattern; start it with '/' (a prefix) or '*' (a glob)")
            return nil
        }
        return pattern
    }
}
