import Foundation
import Yams

/// Collects diagnostics while a configuration is read, so that one pass reports every problem.
final class DiagnosticSink {
    private(set) var diagnostics: [ConfigDiagnostic] = []

    func report(_ diagnostic: ConfigDiagnostic) {
        diagnostics.append(diagnostic)
    }

    var isEmpty: Bool { diagnostics.isEmpty }
}

/// A YAML node with the file it came from: typed accessors that report mistakes at the
/// node's own `line:column` instead of throwing at the first one.
///
/// Yams' `compose` keeps libyaml's marks on every node; `Codable` decoding would lose them.
struct ConfigNode {
    let node: Node
    let file: String
    let sink: DiagnosticSink

    /// Parses `text`; reports a syntax error at its position and returns nil.
    /// An empty document reads as an empty mapping.
    static func parse(_ text: String, file: String, sink: DiagnosticSink) -> ConfigNode? {
        do {
            let node = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
            return ConfigNode(node: node, file: file, sink: sink)
        } catch let error as YamlError {
            sink.report(Self.diagnostic(for: error, file: file))
            return nil
        } catch {
            sink.report(ConfigDiagnostic(file: file, line: 0, column: 0, message: "\(error)"))
            return nil
        }
    }

    private static func diagnostic(for error: YamlError, file: String) -> ConfigDiagnostic {
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let prefix = context.map { "\($0.text), " } ?? ""
            return ConfigDiagnostic(
                file: file, line: mark.line, column: mark.column,
                message: "YAML syntax error: \(prefix)\(problem)"
            )
        case let .reader(problem, _, _, _):
            return ConfigDiagnostic(file: file, line: 0, column: 0, message: "cannot read YAML: \(problem)")
        default:
            return ConfigDiagnostic(file: file, line: 0, column: 0, message: "YAML error: \(error)")
        }
    }

    /// Whether this is a single value rather than a list or mapping.
    var isScalar: Bool {
        if case .scalar = node { return true }
        return false
    }

    /// Whether this is a mapping (key: value).
    var isMapping: Bool {
        if case .mapping = node { return true }
        return false
    }

    /// Whether this is a mapping without entries (`{}`).
    var isEmptyMapping: Bool {
        if case .mapping(let mapping) = node { return mapping.count == 0 }
        return false
    }

    var line: Int { node.mark?.line ?? 0 }
    var column: Int { node.mark?.column ?? 0 }

    /// Reports `message` at this node's position.
    func error(_ message: String) {
        sink.report(ConfigDiagnostic(file: file, line: line, column: column, message: message))
    }

    private func child(_ node: Node) -> ConfigNode {
        ConfigNode(node: node, file: file, sink: sink)
    }

    private var kindName: String {
        switch node {
        case .scalar: "a single value"
        case .mapping: "a mapping (key: value)"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The mapping's values by key. Unknown keys (with a suggestion), duplicate keys and
    /// missing required keys are reported; `what` names the mapping in messages.
    func mapping(_ what: String, allowed: [String], required: [String] = []) -> [String: ConfigNode]? {
        guard case let .mapping(mapping) = node else {
            error("\(what) must be a mapping (key: value), not \(kindName)")
            return nil
        }
        var values: [String: ConfigNode] = [:]
        for (keyNode, valueNode) in mapping {
            let keyReader = child(keyNode)
            guard let key = keyNode.scalar?.string else {
                keyReader.error("keys in \(what) must be plain words")
                continue
            }
            if !allowed.contains(key) {
                let known = allowed.map { "'\($0)'" }.joined(separator: ", ")
                keyReader.error(
                    "unknown key '\(key)' in \(what)\(Suggestion.phrase(for: key, among: allowed)); known keys: \(known)"
                )
                continue
            }
            if values[key] != nil {
                keyReader.error("'\(key)' appears twice in \(what)")
                continue
            }
            values[key] = child(valueNode)
        }
        for key in required where values[key] == nil {
            error("\(what) needs '\(key)'")
        }
        return values
    }

    /// The entries of a mapping whose keys are free-form names (such as host names), in file order.
    func namedEntries(_ what: String) -> [(name: String, key: ConfigNode, value: ConfigNode)]? {
        guard case let .mapping(mapping) = node else {
            error("\(what) must be a mapping (name: settings), not \(kindName)")
            return nil
        }
        var seen: Set<String> = []
        var entries: [(name: String, key: ConfigNode, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            let keyReader = child(keyNode)
            guard let name = keyNode.scalar?.string else {
                keyReader.error("names in \(what) must be plain words")
                continue
            }
            guard seen.insert(name).inserted else {
                keyReader.error("'\(name)' appears twice in \(what)")
                continue
            }
            entries.append((name, keyReader, child(valueNode)))
        }
        return entries
    }

    /// The items of a list; a single value is read as a one-item list, as people write it.
    func list(_ what: String) -> [ConfigNode]? {
        switch node {
        case let .sequence(sequence):
            return sequence.map(child)
        case .scalar:
            return [self]
        default:
            error("\(what) must be a list, not \(kindName)")
            return nil
        }
    }

    /// A text value.
    func string(_ what: String) -> String? {
        guard case let .scalar(scalar) = node else {
            error("\(what) must be a single value, not \(kindName)")
            return nil
        }
        return scalar.string
    }

    /// `true`/`false` (also `yes`/`no`).
    func boolean(_ what: String) -> Bool? {
        guard let text = string(what) else { return nil }
        switch text.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            error("\(what) must be true or false, not '\(text)'")
            return nil
        }
    }

    /// One of a fixed set of words (an enum's raw values); otherwise the error
    /// `unknown KIND 'x' (did you mean 'y'?); PLURAL are 'a' and 'b'`.
    func oneOf<Choice: RawRepresentable & CaseIterable>(_ what: String, kind: String, plural: String) -> Choice?
    where Choice.RawValue == String {
        guard let text = string(what) else { return nil }
        if let choice = Choice(rawValue: text) { return choice }
        let names = Choice.allCases.map { "'\($0.rawValue)'" }
        let listed = names.count > 1 ? names.dropLast().joined(separator: ", ") + " and " + names.last! : names.joined()
        error("unknown \(kind) '\(text)'\(Suggestion.phrase(for: text, among: Choice.allCases.map(\.rawValue))); \(plural) are \(listed)")
        return nil
    }

    /// A switch's state: `on`/`off` (also `true`/`false`, `yes`/`no`).
    func switchState(_ what: String) -> Bool? {
        guard let text = string(what) else { return nil }
        switch text.lowercased() {
        case "on", "true", "yes": return true
        case "off", "false", "no": return false
        default:
            error("\(what) must be on or off, not '\(text)'")
            return nil
        }
    }

    /// A whole number within `range`.
    func integer(_ what: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = string(what) else { return nil }
        let digits = text.replacingOccurrences(of: "_", with: "")
        guard let value = Int(digits) else {
            error("\(what) must be a whole number, not '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            error("\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
            return nil
        }
        return value
    }

    /// A size such as `8192`, `16KiB`, `1MiB` (also `KB`/`MB`/`k`/`m`, all binary), within `range` bytes.
    func byteCount(_ what: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = string(what) else { return nil }
        guard let value = Self.parseByteCount(text) else {
            error("\(what) must be a size such as 8192, 16KiB or 1MiB, not '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            error("\(what) must be between \(range.lowerBound) and \(range.upperBound) bytes, not \(value)")
            return nil
        }
        return value
    }

    /// A duration such as `500ms`, `10s`, `2m`, `1h`, within `range`.
    func duration(_ what: String, in range: ClosedRange<Duration>) -> Duration? {
        guard let text = string(what) else { return nil }
        guard let value = Self.parseDuration(text) else {
            error("\(what) must be a duration such as 500ms, 10s or 2m, not '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            error("\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(text)")
            return nil
        }
        return value
    }

    static func parseByteCount(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int)] = [
            ("kib", 1024), ("mib", 1 << 20), ("gib", 1 << 30),
            ("kb", 1024), ("mb", 1 << 20), ("gb", 1 << 30),
            ("k", 1024), ("m", 1 << 20), ("g", 1 << 30), ("b", 1),
        ]
        for (suffix, multiplier) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Int(number), value >= 0 else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        guard let value = Int(trimmed), value >= 0 else { return nil }
        return value
    }

    static func parseDuration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value >= 0, value.isFinite else { return nil }
            return .milliseconds(Int64((value * seconds * 1000).rounded()))
        }
        return nil
    }
}
