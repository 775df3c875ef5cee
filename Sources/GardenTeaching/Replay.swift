import Foundation
import GardenPolicy
import GardenServer
import GardenSites

/// `walled-garden replay`: every logged request decided again by a candidate policy,
/// and what would change — the "what will my edit do to the class" check.
///
/// A logged visitor keeps who they were: an account the candidate knows gets its class
/// there; else the persona of the listener they came through, if the candidate's
/// garden.yaml has that listener; else the class they were logged with, if the
/// candidate still has it; else the candidate's address ranges or default class.
/// Requests refused before the policy saw them (malformed, a wrong password) are not
/// replayed. A decision is its rule, its action and the effects it applies.
public struct Replay: Sendable {
    /// Decisions that changed, grouped by what they were and what they would be.
    public struct Change: Sendable, Equatable {
        public var before: String
        public var after: String
        public var count: Int
        /// The first request that changed this way: class, method and URL.
        public var example: String

        public init(before: String, after: String, count: Int, example: String) {
            self.before = before
            self.after = after
            self.count = count
            self.example = example
        }
    }

    public var total = 0
    public var replayed = 0
    public var changes: [Change] = []
    /// Hits per rule in the log and under the candidate.
    public var hitsBefore: [String: Int] = [:]
    public var hitsAfter: [String: Int] = [:]

    /// Decides every event again under `candidate`; pages are read from `sitesDirectory`
    /// when the candidate has `content_keywords` rules.
    public static func run(_ events: [AuditEvent], candidate: GardenConfig, sitesDirectory: String) -> Replay {
        var replay = Replay()
        var changes: [String: Change] = [:]
        var order: [String] = []
        let policy = candidate.policy
        var personas: [String: String] = [:]
        for listener in candidate.listeners {
            if let persona = listener.persona { personas[listener.address.description] = persona }
        }
        func record(_ before: String, _ after: String, _ example: String) {
            guard before != after else { return }
            let key = before + "\u{0}" + after
            if changes[key] == nil {
                order.append(key)
                changes[key] = Change(before: before, after: after, count: 0, example: example)
            }
            changes[key]!.count += 1
        }
        // Each request planned as the data plane would plan it under the candidate.
        let planner = VisitPlanner(sites: SiteFolders(config: candidate, directory: sitesDirectory))
        for event in events {
            replay.total += 1
            guard let ruleBefore = event.rule, event.method != "CONNECT" else { continue }
            let persona = personas[event.listener] ?? (policy.classes[event.visitorClass] != nil ? event.visitorClass : nil)
            let visit = Visit(
                url: event.url, method: event.method, persona: persona, account: event.account,
                clientAddress: IPAddressRange.parseAddress(event.client), time: event.time / 1000
            )
            guard let planned = try? planner.plan(visit) else { continue }
            replay.replayed += 1
            let visitorClass = planned.facts?.visitorClass ?? persona ?? policy.defaultClass
            guard let decision = planned.decision else {
                // The candidate refuses it before its policy decides (an account it lacks).
                record("\(ruleBefore) → \(event.action)", "refused before the policy (\(planned.outcome))", "\(visitorClass) \(event.method) \(event.url)")
                continue
            }
            replay.hitsBefore[ruleBefore, default: 0] += 1
            replay.hitsAfter[decision.ruleID, default: 0] += 1
            // Effects count too: an edit may stop rewriting a page it still allows.
            let effectsAfter = decision.effects.map(\.name)
            let before = "\(ruleBefore) → \(event.action)" + event.effects.map { " +\($0)" }.joined()
            let after = "\(decision.ruleID) → \(decision.action.name)" + effectsAfter.map { " +\($0)" }.joined()
            record(before, after, "\(visitorClass) \(event.method) \(event.url)")
        }
        replay.changes = order.compactMap { changes[$0] }.sorted { $0.count > $1.count }
        return replay
    }

    /// The report `replay` prints.
    public var lines: [String] {
        var lines = ["Replayed \(replayed) of \(total) logged requests (\(total - replayed) refused before the policy or not readable, not replayed)."]
        let changed = changes.reduce(0) { $0 + $1.count }
        if changed == 0 {
            lines.append("No decision would change.")
        } else {
            lines.append("\(changed) decision\(changed == 1 ? "" : "s") would change:")
            lines.append("")
            lines += TextTable.render(
                header: ["before (rule → action +effects)", "after", "requests", "for example"],
                rows: changes.map { [$0.before, $0.after, String($0.count), $0.example] },
                rightAligned: [2]
            )
        }
        let rules = Set(hitsBefore.keys).union(hitsAfter.keys).sorted()
        let differing = rules.filter { hitsBefore[$0, default: 0] != hitsAfter[$0, default: 0] }
        if !differing.isEmpty {
            lines.append("")
            lines.append("Hits per rule that would change:")
            lines.append("")
            lines += TextTable.render(
                header: ["rule", "before", "after"],
                rows: differing.map { [$0, String(hitsBefore[$0, default: 0]), String(hitsAfter[$0, default: 0])] },
                rightAligned: [1, 2]
            )
        }
        return lines
    }
}
