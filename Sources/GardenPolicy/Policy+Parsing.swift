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

    init(sink: DiagnosticSink, lists: [String: GardenConfig.Source]) {
        self.sink = sink
        self.lists = lists
    }

    static let ruleKeys = ["id", "reason", "classes", "clients", "hosts", "zone", "paths", "methods", "url_keywords",
                           "action", "to", "for", "effects", "shadow"]

    mutating func parse(_ source: GardenConfig.Source) -> Policy? {
        guard let root = ConfigNode.parse(source.text, file: source.file, sink: sink),
              let keys = root.mapping("policy.yaml", allowed: ["classes", "default_class", "addresses", "teaching", "rules", "default"],
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
        if let teaching = keys["teaching"]?.mapping("teaching", allowed: ["explain_blocks"]),
           let node = teaching["explain_blocks"], let text = node.string("explain_blocks") {
            switch text {
            case "true", "yes": policy.explainBlocks = true
            case "false", "no": policy.explainBlocks = false
            default: node.error("explain_blocks must be true or false, not '\(text)'")
            }
        }
        return policy
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
                } else {
                    item.error("'\(text)' is not a host pattern; write friend.com.kp, *.example or @listname")
                }
            }
            conditions.append(.hosts(patterns))
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
            var words: [String] = []
            for item in list {
                guard let text = item.string("a keyword") else { continue }
                if text.hasPrefix("@") {
                    words += keywordList(String(text.dropFirst()), at: item)
                } else if !text.isEmpty {
                    words.append(text.lowercased())
                }
            }
            conditions.append(.urlKeywords(words))
        }
        if let list = keys["methods"]?.list("methods") {
            conditions.append(.methods(Set(list.compactMap { $0.string("a method")?.uppercased() })))
        }

        var effects: [Effect] = []
        for item in keys["effects"]?.list("effects") ?? [] {
            guard let text = item.string("an effect") else { continue }
            guard let effect = Effect(rawValue: text) else {
                let known = Effect.allCases.map(\.rawValue)
                item.error("unknown effect '\(text)'\(Suggestion.phrase(for: text, among: known)); effects are \(known.map { "'\($0)'" }.joined(separator: ", "))")
                continue
            }
            effects.append(effect)
        }
        var action: CensorStyle?
        if let actionNode = keys["action"] {
            action = parseAction(actionNode, settings: keys)
        } else {
            if keys["effects"] == nil { node.error("rule '\(id)' needs an 'action' or 'effects'") }
            if let extra = keys["to"] ?? keys["for"] { extra.error("'to' and 'for' belong with an action") }
        }
        var shadow = false
        if let node = keys["shadow"], let text = node.string("shadow") {
            switch text {
            case "true", "yes": shadow = true
            case "false", "no": shadow = false
            default: node.error("shadow must be true or false, not '\(text)'")
            }
        }
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
