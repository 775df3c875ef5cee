import Foundation

extension Policy {
    /// Parses `policy.yaml`; `lists` holds the files of `Config/lists/` by name (without
    /// `.txt`), for `@name` references in `hosts`.
    ///
    /// - Throws: `ConfigErrors` with one `file:line:column` diagnostic per problem.
    public static func parse(_ source: GardenConfig.Source, lists: [String: GardenConfig.Source] = [:]) throws(ConfigErrors) -> Policy {
        let sink = DiagnosticSink()
        var parser = PolicyParser(sink: sink, lists: lists)
        let policy = parser.parse(source)
        guard sink.isEmpty, let policy else { throw ConfigErrors(sink.diagnostics) }
        return policy
    }
}

/// Reads `policy.yaml` into a `Policy`, reporting every mistake at its position.
private struct PolicyParser {
    let sink: DiagnosticSink
    let lists: [String: GardenConfig.Source]
    private var parsedLists: [String: [HostPattern]] = [:]
    /// The accounts declared, for checking `accounts` conditions.
    private var accountNames: Set<String> = []
    /// Host patterns written in rules, with their places.
    private var hostMentions: [Policy.HostMention] = []

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

        var addressClasses: [(ranges: [IPAddressRange], visitorClass: String)] = []
        for item in keys["addresses"]?.list("addresses") ?? [] {
            guard let fields = item.mapping("an address entry", allowed: ["clients", "class"], required: ["clients", "class"]),
                  let classNode = fields["class"], let name = classNode.string("class") else { continue }
            checkClass(name, at: classNode, classes: classes)
            let ranges = (fields["clients"]?.list("clients") ?? []).compactMap { addressRange($0) }
            addressClasses.append((ranges, name))
        }

        var accounts: [String: Account] = [:]
        let accountEntries = keys["accounts"]?.namedEntries("accounts") ?? []
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

        var rules: [Rule] = []
        var seenIDs: Set<String> = []
        for item in keys["rules"]?.list("rules") ?? [] {
            if let rule = parseRule(item, classes: classes) {
                if !seenIDs.insert(rule.id).inserted {
                    item.error("two rules have the id '\(rule.id)'; ids must be unique")
                }
                rules.append(rule)
            }
        }

        var defaultAction = CensorStyle.notFound
        var defaultReason = ""
        if let node = keys["default"] {
            // `default: block` or `default: {action: block, reason: ...}`.
            if node.isScalar {
                defaultAction = parseAction(node, settings: [:]) ?? .notFound
            } else if let settings = node.mapping("default", allowed: ["action", "reason", "to", "for"], required: ["action"]),
                      let actionNode = settings["action"] {
                defaultAction = parseAction(actionNode, settings: settings) ?? .notFound
                defaultReason = settings["reason"]?.string("reason") ?? ""
            }
        }
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

    /// `switches: {id: {title, rules: [...], default: on|off}}`.
    private func parseSwitches(_ node: ConfigNode, ruleIDs: [String]) -> [PolicySwitch] {
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

    private func addressRange(_ item: ConfigNode) -> IPAddressRange? {
        guard let text = item.string("a client range") else { return nil }
        guard let range = IPAddressRange(text) else {
            item.error("'\(text)' is not an address range; write it like 10.0.0.0/8, 192.168.1.20 or fd00::/8")
            return nil
        }
        return range
    }

    private func checkClass(_ name: String, at node: ConfigNode, classes: [String: String]) {
        guard classes[name] == nil, !classes.isEmpty else { return }
        let known = classes.keys.sorted()
        node.error("unknown class '\(name)'\(Suggestion.phrase(for: name, among: known)); classes are \(known.map { "'\($0)'" }.joined(separator: ", "))")
    }

    private mutating func parseRule(_ node: ConfigNode, classes: [String: String]) -> Rule? {
        guard let keys = node.mapping("a rule", allowed: Self.ruleKeys, required: ["id", "reason"]) else { return nil }
        let id = keys["id"]?.string("id") ?? ""
        let reason = keys["reason"]?.string("reason") ?? ""
        var conditions: [Rule.Condition] = []

        if let list = keys["classes"]?.list("classes") {
            var names: Set<String> = []
            for item in list {
                guard let name = item.string("a class") else { continue }
                checkClass(name, at: item, classes: classes)
                names.insert(name)
            }
            conditions.append(.classes(names))
        }
        if let list = keys["clients"]?.list("clients") {
            conditions.append(.clients(list.compactMap { addressRange($0) }))
        }
        if let list = keys["hosts"]?.list("hosts") {
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
            conditions.append(.hosts(HostSet(patterns)))
        }
        if let node = keys["zone"], let text = node.string("zone") {
            if let zone = Zone(rawValue: text) {
                conditions.append(.zone(zone))
            } else {
                node.error("unknown zone '\(text)'\(Suggestion.phrase(for: text, among: Zone.allCases.map(\.rawValue))); zones are 'intranet' and 'internet'")
            }
        }
        if let list = keys["paths"]?.list("paths") {
            let patterns = list.compactMap { item -> PathPattern? in
                guard let text = item.string("a path") else { return nil }
                guard let pattern = PathPattern(text) else {
                    item.error("'\(text)' is not a path pattern; start it with '/' (a prefix) or '*' (a glob)")
                    return nil
                }
                return pattern
            }
            conditions.append(.paths(patterns))
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
            var names: Set<String> = []
            for item in list {
                guard let name = item.string("an account") else { continue }
                if !accountNames.contains(name) {
                    let known = accountNames.sorted()
                    item.error("unknown account '\(name)'\(Suggestion.phrase(for: name, among: known))"
                        + (known.isEmpty ? "; declare it under 'accounts'" : "; accounts are \(known.map { "'\($0)'" }.joined(separator: ", "))"))
                }
                names.insert(name)
            }
            conditions.append(.accounts(names))
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

    /// An action name with its settings (`to` for redirect, `for` for stall).
    private func parseAction(_ node: ConfigNode, settings: [String: ConfigNode]) -> CensorStyle? {
        guard let name = node.string("action") else { return nil }
        if name != "redirect", let to = settings["to"] { to.error("'to' belongs with action redirect") }
        if name != "stall", let duration = settings["for"] { duration.error("'for' belongs with action stall") }
        switch name {
        case "allow": return .allow
        case "block": return .block
        case "unavailable": return .unavailable
        case "notfound": return .notFound
        case "drop": return .drop
        case "reset": return .reset
        case "authenticate": return .authenticate
        case "redirect":
            guard let toNode = settings["to"], let location = toNode.string("to") else {
                node.error("action redirect needs 'to', the address to send the visitor to")
                return nil
            }
            guard location.hasPrefix("http://") || location.hasPrefix("/") else {
                toNode.error("'to' must be an http:// address or a path starting with '/'")
                return nil
            }
            return .redirect(to: location)
        case "stall":
            let duration = settings["for"]?.duration("for", in: .seconds(1)...(.seconds(3600))) ?? .seconds(60)
            return .stall(duration)
        default:
            node.error("unknown action '\(name)'\(Suggestion.phrase(for: name, among: CensorStyle.names)); actions are \(CensorStyle.names.map { "'\($0)'" }.joined(separator: ", "))")
            return nil
        }
    }

    /// Words written inline or as `@list` references, lower-cased.
    private func words(in list: [ConfigNode], what: String) -> [String] {
        var words: [String] = []
        for item in list {
            guard let text = item.string(what) else { continue }
            if text.hasPrefix("@") {
                words += keywordList(String(text.dropFirst()), at: item)
            } else if !text.isEmpty {
                words.append(text.lowercased())
            }
        }
        return words
    }

    /// One `schedule` window: `days`, `from`, `to`, `time_zone` (all optional but one).
    private func parseSchedule(_ node: ConfigNode) -> Schedule? {
        guard let fields = node.mapping("a schedule", allowed: ["days", "from", "to", "time_zone"]) else { return nil }
        if node.isEmptyMapping {
            node.error("a schedule needs 'days', 'from'/'to' or both")
            return nil
        }
        var schedule = Schedule.always
        var valid = true
        if let list = fields["days"]?.list("days") {
            var days: Set<Int> = []
            for item in list {
                guard let text = item.string("a day") else { valid = false; continue }
                guard let named = Schedule.days(named: text) else {
                    let known = Schedule.dayNames + ["weekdays", "weekend", "daily"]
                    item.error("'\(text)' is not a day\(Suggestion.phrase(for: text.lowercased(), among: known)); write mon, tue, ..., a range like mon-fri, weekdays, weekend or daily")
                    valid = false
                    continue
                }
                days.formUnion(named)
            }
            schedule.days = days
        }
        for key in ["from", "to"] {
            guard let clockNode = fields[key], let text = clockNode.string(key) else { continue }
            guard let minutes = Schedule.minutes(text) else {
                clockNode.error("\(key) must be a time of day such as 09:00 or 17:30, not '\(text)'")
                valid = false
                continue
            }
            if key == "from" { schedule.from = minutes } else { schedule.to = minutes }
        }
        if schedule.from == schedule.to {
            node.error("the schedule's 'from' and 'to' are the same time; the window would be empty")
            valid = false
        }
        if let zoneNode = fields["time_zone"], let identifier = zoneNode.string("time_zone") {
            if let zone = TimeZone(identifier: identifier), identifier.contains("/") || identifier == "UTC" || identifier == "GMT" {
                schedule.timeZone = zone
                schedule.timeZoneName = identifier
            } else {
                zoneNode.error("unknown time zone '\(identifier)'; use an IANA name such as Asia/Pyongyang, Europe/Berlin or UTC")
                valid = false
            }
        }
        return valid ? schedule : nil
    }

    /// One item of `effects`: `monitor`, or a mapping `throttle: {...}` / `rewrite: {...}`.
    private func parseEffect(_ item: ConfigNode) -> Effect? {
        let known = Effect.names.map { "'\($0)'" }.joined(separator: ", ")
        if item.isScalar {
            guard let text = item.string("an effect") else { return nil }
            switch text {
            case "monitor": return .monitor
            case "throttle": item.error("throttle needs settings, e.g. {throttle: {rate: 16KiB, latency: 2s}}")
            case "rewrite": item.error("rewrite needs settings, e.g. {rewrite: {links: neutralise}}")
            default: item.error("unknown effect '\(text)'\(Suggestion.phrase(for: text, among: Effect.names)); effects are \(known)")
            }
            return nil
        }
        guard let fields = item.mapping("an effect", allowed: ["throttle", "rewrite"]) else { return nil }
        guard fields.count == 1, let (name, settings) = fields.first else {
            item.error("an effect is one of \(known), one per list item")
            return nil
        }
        if name == "throttle" {
            guard let keys = settings.mapping("throttle", allowed: ["rate", "latency"]) else { return nil }
            let rate = keys["rate"]?.byteCount("rate (bytes per second)", in: 1...(1 << 30))
            let latency = keys["latency"]?.duration("latency", in: .milliseconds(1)...(.seconds(600)))
            guard rate != nil || latency != nil else {
                if keys.isEmpty { settings.error("throttle needs 'rate' (bytes per second), 'latency' or both") }
                return nil
            }
            return .throttle(Throttle(bytesPerSecond: rate, latency: latency))
        }
        guard let keys = settings.mapping("rewrite", allowed: ["links", "substitute", "redact", "emphasis", "banner", "watermark"])
        else { return nil }
        var rewrite = RewriteSet()
        if let node = keys["links"], let text = node.string("links") {
            if let treatment = RewriteSet.LinkTreatment(rawValue: text) {
                rewrite.links = treatment
            } else {
                let names = RewriteSet.LinkTreatment.allCases.map(\.rawValue)
                node.error("links must be \(names.map { "'\($0)'" }.joined(separator: ", "))\(Suggestion.phrase(for: text, among: names)), not '\(text)'")
            }
        }
        for (word, _, value) in keys["substitute"]?.namedEntries("substitute") ?? [] {
            if let replacement = value.string("the replacement for '\(word)'") {
                rewrite.substitutions.append(.init(word: word, replacement: replacement))
            }
        }
        if let list = keys["redact"]?.list("redact") { rewrite.redactions = words(in: list, what: "a word") }
        if let list = keys["emphasis"]?.list("emphasis") { rewrite.emphasis = words(in: list, what: "a name") }
        if let node = keys["banner"] {
            rewrite.banner = node.string("banner")
            rewrite.bannerLocation = "\(node.file):\(node.line):\(node.column)"
        }
        rewrite.watermark = keys["watermark"]?.boolean("watermark") ?? false
        if keys.isEmpty, settings.isEmptyMapping {
            settings.error("this rewrite changes nothing; give links, substitute, redact, emphasis, banner or watermark")
            return nil
        }
        return .rewrite(rewrite)
    }

    /// The keywords of `Config/lists/NAME.txt`: one a line, `#` comments, case ignored.
    private func keywordList(_ name: String, at node: ConfigNode) -> [String] {
        guard let source = lists[name] else {
            node.error("no list '\(name)'\(Suggestion.phrase(for: name, among: lists.keys.sorted())); lists are files in Config/lists/ named NAME.txt")
            return []
        }
        return Self.entries(of: source).map { $0.text.lowercased() }
    }

    /// The entries of a list file with their positions: one a line, blank lines and
    /// `#` comments skipped, spaces around an entry trimmed.
    private static func entries(of source: GardenConfig.Source) -> [(line: Int, column: Int, text: String)] {
        var entries: [(line: Int, column: Int, text: String)] = []
        for (index, rawLine) in source.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            let column = (line.range(of: text).map { line.distance(from: line.startIndex, to: $0.lowerBound) } ?? 0) + 1
            entries.append((index + 1, column, text))
        }
        return entries
    }

    /// The patterns of `Config/lists/NAME.txt`: one host pattern a line, `#` comments.
    private mutating func hostList(_ name: String, at node: ConfigNode) -> [HostPattern] {
        if let parsed = parsedLists[name] { return parsed }
        guard let source = lists[name] else {
            node.error("no list '\(name)'\(Suggestion.phrase(for: name, among: lists.keys.sorted())); lists are files in Config/lists/ named NAME.txt")
            return []
        }
        var patterns: [HostPattern] = []
        for entry in Self.entries(of: source) {
            if let pattern = HostPattern(entry.text) {
                patterns.append(pattern)
            } else {
                sink.report(ConfigDiagnostic(file: source.file, line: entry.line, column: entry.column,
                                             message: "'\(entry.text)' is not a host pattern; write friend.com.kp or *.example"))
            }
        }
        parsedLists[name] = patterns
        return patterns
    }
}
