import Foundation
import GardenPolicy
import Synchronization

/// The numbers behind the desk's "Now" and "Policy" pages, kept from the audit events:
/// requests per second, allowed and censored per class and per site, the most blocked
/// hosts over the last five minutes, and each rule's hits since the policy was reloaded.
///
/// Counted per second in a ring of 300 buckets, so memory stays the same however busy
/// the garden is; fed by the audit trail's writer thread, never by the data plane.
public final class DeskStatistics: Sendable {
    /// Allowed and censored requests.
    public struct Tally: Sendable, Equatable {
        public var allowed = 0
        public var censored = 0
        public var total: Int { allowed + censored }

        mutating func add(censored isCensored: Bool) {
            if isCensored { censored += 1 } else { allowed += 1 }
        }

        static func + (a: Tally, b: Tally) -> Tally { Tally(allowed: a.allowed + b.allowed, censored: a.censored + b.censored) }
    }

    /// A rule's matches since the policy was last put in force.
    public struct RuleHits: Sendable, Equatable {
        public var hits = 0
        public var shadowHits = 0
    }

    /// What the "Now" page shows.
    public struct Snapshot: Sendable {
        /// Requests per second over the last 5 seconds.
        public var requestsPerSecond: Double
        /// Requests in each of the last 60 seconds, oldest first.
        public var lastMinute: [Int]
        public var total: Tally
        public var byClass: [(name: String, tally: Tally)]
        public var bySite: [(name: String, tally: Tally)]
        public var topBlockedHosts: [(host: String, count: Int)]
    }

    private struct Bucket {
        var second: Int64 = -1
        var total = Tally()
        var byClass: [String: Tally] = [:]
        var bySite: [String: Tally] = [:]
        var blocked: [String: Int] = [:]
    }

    private struct State {
        var buckets = [Bucket](repeating: Bucket(), count: DeskStatistics.window)
        var ruleHits: [String: RuleHits] = [:]
    }

    /// Seconds the page looks back over.
    static let window = 300
    private let state = Mutex(State())

    func add(_ batch: [AuditRecord]) {
        state.withLock { state in
            for record in batch {
                let second = record.event.time / 1000
                let slot = Int(second % Int64(Self.window))
                if state.buckets[slot].second != second { state.buckets[slot] = Bucket(second: second) }
                // (Fields read one by one: `isCensored` on the stored event would copy it whole.)
                let censored = AuditEvent.isCensored(action: record.event.action, effects: record.event.effects)
                state.buckets[slot].total.add(censored: censored)
                state.buckets[slot].byClass[record.event.visitorClass, default: Tally()].add(censored: censored)
                state.buckets[slot].bySite[record.event.host, default: Tally()].add(censored: censored)
                if record.event.action != "allow", record.event.action != "authenticate" {
                    state.buckets[slot].blocked[record.event.host, default: 0] += 1
                }
                if let rule = record.event.rule { state.ruleHits[rule, default: RuleHits()].hits += 1 }
                for shadow in record.event.shadow { state.ruleHits[shadow.rule, default: RuleHits()].shadowHits += 1 }
            }
        }
    }

    /// Forgets the rules' hits: a new policy is in force.
    public func policyReloaded() {
        state.withLock { $0.ruleHits = [:] }
    }

    public var ruleHits: [String: RuleHits] { state.withLock { $0.ruleHits } }

    /// The last five minutes as of `now` (milliseconds since 1970).
    public func snapshot(now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> Snapshot {
        let current = now / 1000
        return state.withLock { state in
            var total = Tally()
            var byClass: [String: Tally] = [:]
            var bySite: [String: Tally] = [:]
            var blocked: [String: Int] = [:]
            var lastMinute = [Int](repeating: 0, count: 60)
            var lastFive = 0
            for bucket in state.buckets where bucket.second > current - Int64(Self.window) && bucket.second <= current {
                total = total + bucket.total
                for (name, tally) in bucket.byClass { byClass[name, default: Tally()] = byClass[name, default: Tally()] + tally }
                for (name, tally) in bucket.bySite { bySite[name, default: Tally()] = bySite[name, default: Tally()] + tally }
                for (host, count) in bucket.blocked { blocked[host, default: 0] += count }
                let age = Int(current - bucket.second)
                if age < 60 { lastMinute[59 - age] = bucket.total.total }
                // The current second is still filling: the rate is over the five before it.
                if age >= 1, age <= 5 { lastFive += bucket.total.total }
            }
            return Snapshot(
                requestsPerSecond: Double(lastFive) / 5,
                lastMinute: lastMinute,
                total: total,
                byClass: byClass.sorted { ($0.value.total, $1.key) > ($1.value.total, $0.key) }.map { ($0.key, $0.value) },
                bySite: bySite.sorted { ($0.value.total, $1.key) > ($1.value.total, $0.key) }.map { ($0.key, $0.value) },
                topBlockedHosts: blocked.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(10).map { ($0.key, $0.value) }
            )
        }
    }
}
