import Foundation

/// The values inside a rule: its action, schedule, effects, word lists and host lists.
extension PolicyParser {
    /// An action name with its settings (`to` for redirect, `for` for stall).
    func parseAction(_ node: ConfigNode, settings: [String: ConfigNode]) -> CensorStyle? {
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
    func words(in list: [ConfigNode], what: String) -> [String] {
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
    func parseSchedule(_ node: ConfigNode) -> Schedule? {
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
    func parseEffect(_ item: ConfigNode) -> Effect? {
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
    func keywordList(_ name: String, at node: ConfigNode) -> [String] {
        guard let source = lists[name] else {
            node.error("no list '\(name)'\(Suggestion.phrase(for: name, among: lists.keys.sorted())); lists are files in Config/lists/ named NAME.txt")
            return []
        }
        return Self.entries(of: source).map { $0.text.lowercased() }
    }

    /// The entries of a list file with their positions: one a line, blank lines and
    /// `#` comments skipped, spaces around an entry trimmed.
    static func entries(of source: GardenConfig.Source) -> [(line: Int, column: Int, text: String)] {
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
    mutating func hostList(_ name: String, at node: ConfigNode) -> [HostPattern] {
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
