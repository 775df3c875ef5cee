import Foundation

/// `explain` in plain words: how the visitor's class was found, each rule looked at and
/// why it did or did not apply, and the decision. A separate pass over `Decision.trace`
/// (as OPA's explain is over its evaluation events), so `decide` itself stays lean.
public struct Explanation: Sendable {
    public let lines: [String]

    /// - Parameters:
    ///   - howClassWasFound: a phrase such as `from --as` or `the default class`.
    ///   - url: the request as the student typed it.
    public init(policy: Policy, request: RequestFacts, decision: Decision, howClassWasFound: String, url: String) {
        var lines: [String] = []
        lines.append("Visitor: \(request.visitorClass) (\(howClassWasFound))")
        let site: String
        switch request.zone {
        case .some(let zone): site = "\(request.host) is a site on the \(zone.rawValue)"
        case .none: site = "\(request.host) is not a site of the garden"
        }
        lines.append("Request: \(request.method) \(url) — \(site)")
        if request.method == "CONNECT" {
            lines.append("A tunnel (CONNECT): the censor sees the host and port, not the path, which travels inside the encryption; rules with paths do not apply.")
        }
        if policy.rules.contains(where: { $0.conditions.contains { if case .schedule = $0 { true } else { false } } }) {
            let formatter = ISO8601DateFormatter()
            lines.append("Time: \(formatter.string(from: Date(timeIntervalSince1970: TimeInterval(request.time)))) (rules with a schedule look at it)")
        }
        lines.append("Rules, top to bottom:")
        if !policy.switchedOff.isEmpty {
            let off = policy.switchedOff.sorted { $0.key < $1.key }.map { "\($0.key) (switch '\($0.value)' is off)" }
            lines.append("  Left out now: \(off.joined(separator: ", ")).")
        }
        let byID = Dictionary(policy.rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for (number, check) in decision.trace.enumerated() {
            let rule = byID[check.ruleID]
            let shadow = rule?.shadow == true ? " (shadow)" : ""
            let prefix = "  \(number + 1). \(check.ruleID)\(shadow) — "
            if let failed = check.failedCondition {
                lines.append(prefix + "does not apply: it is only for when \(failed.wording).")
                continue
            }
            // Content rules say which words of the page they found.
            var found = ""
            for case .contentKeywords(let words) in rule?.conditions ?? [] {
                let matched = words.filter(request.contentWords.contains)
                if !matched.isEmpty { found = " (the page contains \(matched.map { "“\($0)”" }.joined(separator: ", ")))" }
            }
            switch check.outcome {
            case .decided(let action):
                lines.append(prefix + "applies\(found) and decides: \(action).")
            case .addedEffects(let effects):
                let named = effects.map(\.description).joined(separator: ", ")
                lines.append(prefix + (named.isEmpty ? "applies, and does nothing else." : "applies\(found) and adds: \(named); reading on."))
            case .wouldHave(let action):
                lines.append(prefix + "applies\(found), and would have decided \(action), but shadow rules are only reported.")
            case .none:
                lines.append(prefix + "applies.")
            }
        }
        let remaining = policy.rules.count - decision.trace.count
        if remaining > 0 {
            lines.append("  (\(remaining) more rule\(remaining == 1 ? "" : "s") not looked at: the first deciding rule ends the search.)")
        }
        let by = decision.ruleID == "default" ? "the default (no rule decided)" : "rule \(decision.ruleID)"
        let seen = request.method == "CONNECT" && decision.action == .allow
            ? "the tunnel is let through; where it leads is said below"
            : Self.fingerprint(decision.action)
        var verdict = "Decision: \(decision.action) (\(seen)), by \(by)"
        if !decision.reason.isEmpty { verdict += " — “\(decision.reason)”" }
        lines.append(verdict)
        if !decision.effects.isEmpty {
            lines.append("Effects: \(decision.effects.map(\.description).joined(separator: ", "))")
        }
        self.lines = lines
    }

    /// What the visitor sees, in HTTP terms.
    static func fingerprint(_ action: CensorStyle) -> String {
        switch action {
        case .allow: "the page is served"
        case .block: "HTTP 403 and a block page"
        case .unavailable: "HTTP 451 Unavailable For Legal Reasons"
        case .notFound: "HTTP 404, as if the address did not exist"
        case .redirect: "HTTP 302 to another address"
        case .drop: "the connection closes without an answer"
        case .reset: "the connection is reset"
        case .stall: "no answer at all until the stall ends"
        case .authenticate: "HTTP 401 (or 407 through the proxy) asking for a name and password"
        }
    }
}
