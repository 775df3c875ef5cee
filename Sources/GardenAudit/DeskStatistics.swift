import Foundation
import GardenPolicy
import Synchronization

/// The numbers behind the desk's "Now" and "Policy" pages, kept from the audit events:
/// requests per second, allowed and censored per class and per site, the most blocked
/// hosts over the last five minutes, and each rule's hits since the policy was reloaded.
///
/// Counted per second in a ring of 300 buckets, so memory stays the same however busy
/// the garden is; fed by the audit trail's writer thread, never by the data plane.
///
/// Host names are what a client sends, so a student can invent any number of them: the
/// garden's sites are counted by name, other hosts by name only up to
/// `otherNamesPerSecond` a second and the rest under "(other hosts)", and the page shows
/// the busiest `shownNames`. Memory and the page's cost stay bounded whatever is sent.
public final class DeskStatistics: Sendable {
    /// Allowed and censored requests.
    public struct Tally: Sendable, Equatable {
        public var allowed = 0
        public var censored = 0
        public var total: Int { allowed + censored }

        mutating func add(censored isCensored: Bool, times: Int) {
            if isCensored { censored += times } else { allowed += times }
        }

        static func + (a: Tally, b: Tally) -> Tally { Tally(allowed: a.allowed + b.allowed, censored: a.censored + b.censored) }
    }

    /// A rule's matches since the policy was last put in force.
    public struct RuleHits: Sendable, Equatable {
        public var hits = 0
        public var shadowHits = 0

        public init(hits: Int = 0, shadowHits: Int = 0) {
            self.hits = hits
            self.shadowHits = shadowHits
        }
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
        /// Per class, allowed and censored requests in each 10 s of the 5 minutes, oldest
        /// first (for the chart over time).
        public var classSeries: [(name: String, slices: [Tally])] = []
    }

    /// Seconds in one slice of the chart over time.
    public static let sliceSeconds = 10

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
    /// Hosts that are not sites of the garden counted by name in one second.
    static let otherNamesPerSecond = 32
    /// Rows the page shows of the sites and of the most blocked hosts.
    static let shownNames = 30
    /// Where the hosts beyond those are counted.
    public static let otherHosts = "(other hosts)"
    private let state = Mutex(State())

    /// Counts a batch of events. A run of events that count alike (the same second,
    /// class, host, action and rule, no shadow matches: a page's images, a busy client)
    /// is counted at once: one look-up per table for the run, not per event.
    func add(_ batch: [AuditRecord]) {
        state.withLock { state in
            var start = 0
            while start < batch.count {
                var end = start + 1
                while end < batch.count, Self.countAlike(batch[end], batch[start]) { end += 1 }
                Self.count(batch[start], times: end - start, into: &state)
                start = end
            }
        }
    }

    /// Whether `a` and `b` change the same counters in the same way.
    private static func countAlike(_ a: AuditRecord, _ b: AuditRecord) -> Bool {
        a.event.time / 1000 == b.event.time / 1000 && a.event.shadow.isEmpty && b.event.shadow.isEmpty
            && (a.event.zone == nil) == (b.event.zone == nil) && a.event.host == b.event.host
            && a.event.visitorClass == b.event.visitorClass && a.event.action == b.event.action
            && a.event.rule == b.event.rule && a.event.effects == b.event.effects
    }

    /// Counts `record` `times` times.
    private static func count(_ record: AuditRecord, times: Int, into state: inout State) {
        let second = record.event.time / 1000
        let slot = Int(second % Int64(Self.window))
        if state.buckets[slot].second != second { state.buckets[slot] = Bucket(second: second) }
        // (Fields read one by one: `isCensored` on the stored event would copy it whole.)
        let censored = AuditEvent.isCensored(action: record.event.action, effects: record.event.effects)
        state.buckets[slot].total.add(censored: censored, times: times)
        state.buckets[slot].byClass[record.event.visitorClass, default: Tally()].add(censored: censored, times: times)
        // A site by its name; an address (which shows the portal) is any of 2^32 or
        // more, so it is counted like other hosts a client makes up.
        let isSite = record.event.zone != nil && !Self.isAddress(record.event.host)
        // `friend.com.kp.localhost` is friend.com.kp, as the garden serves it.
        let host = isSite ? Self.withoutLocalhost(record.event.host) : record.event.host
        let siteKey = Self.key(host, isSite: isSite, in: state.buckets[slot].bySite)
        state.buckets[slot].bySite[siteKey, default: Tally()].add(censored: censored, times: times)
        if record.event.action != "authenticate", !AuditEvent.notCensorship.contains(record.event.action) {
            let blockedKey = Self.key(host, isSite: isSite, in: state.buckets[slot].blocked)
            state.buckets[slot].blocked[blockedKey, default: 0] += times
        }
        if let rule = record.event.rule { state.ruleHits[rule, default: RuleHits()].hits += times }
        for shadow in record.event.shadow { state.ruleHits[shadow.rule, default: RuleHits()].shadowHits += times }
    }

    /// The name to count `host` under in a second's table: its own if it is a site or
    /// already counted, or while the second has room for more names; else "(other hosts)".
    private static func key<Value>(_ host: String, isSite: Bool, in table: [String: Value]) -> String {
        if isSite || table[host] != nil || table.count < otherNamesPerSecond { return host }
        return otherHosts
    }

    /// `NAME.localhost` as `NAME`.
    static func withoutLocalhost(_ host: String) -> String {
        host.hasSuffix(".localhost") ? String(host.dropLast(".localhost".count)) : host
    }

    /// Whether `host` is an IP literal (digits and dots, or anything with a colon).
    static func isAddress(_ host: String) -> Bool {
        host.utf8.contains(UInt8(ascii: ":")) || host.utf8.allSatisfy { $0 == UInt8(ascii: ".") || ($0 >= 48 && $0 <= 57) }
    }

    /// Names held in all the buckets now (bounded however many hosts clients invent).
    var namesHeld: Int {
        state.withLock { $0.buckets.reduce(0) { $0 + $1.bySite.count + $1.blocked.count } }
    }

    /// The busiest `shownNames` of `counts`, and the rest summed as "(other hosts)".
    private static func busiest<Value>(
        _ counts: [String: Value], by size: (Value) -> Int, adding: (Value, Value) -> Value
    ) -> [(String, Value)] {
        let sorted = counts.sorted { (size($0.value), $1.key) > (size($1.value), $0.key) }
        var shown: [(String, Value)] = []
        var rest: Value?
        for (name, value) in sorted {
            if name != otherHosts, shown.count < shownNames {
                shown.append((name, value))
            } else {
                rest = rest.map { adding($0, value) } ?? value
            }
        }
        if let rest { shown.append((otherHosts, rest)) }
        return shown
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
            let sliceCount = Self.window / Self.sliceSeconds
            var series: [String: [Tally]] = [:]
            for bucket in state.buckets where bucket.second > current - Int64(Self.window) && bucket.second <= current {
                total = total + bucket.total
                for (name, tally) in bucket.byClass { byClass[name, default: Tally()] = byClass[name, default: Tally()] + tally }
                for (name, tally) in bucket.bySite { bySite[name, default: Tally()] = bySite[name, default: Tally()] + tally }
                for (host, count) in bucket.blocked { blocked[host, default: 0] += count }
                let age = Int(current - bucket.second)
                if age < 60 { lastMinute[59 - age] = bucket.total.total }
                let slice = sliceCount - 1 - age / Self.sliceSeconds
                for (name, tally) in bucket.byClass {
                    var slices = series[name] ?? [Tally](repeating: Tally(), count: sliceCount)
                    slices[slice] = slices[slice] + tally
                    series[name] = slices
                }
                // The current second is still filling: the rate is over the five before it.
                if age >= 1, age <= 5 { lastFive += bucket.total.total }
            }
            var snapshot = Snapshot(
                requestsPerSecond: Double(lastFive) / 5,
                lastMinute: lastMinute,
                total: total,
                byClass: byClass.sorted { ($0.value.total, $1.key) > ($1.value.total, $0.key) }.map { ($0.key, $0.value) },
                bySite: Self.busiest(bySite, by: \.total, adding: +).map { (name: $0.0, tally: $0.1) },
                topBlockedHosts: blocked.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(10).map { ($0.key, $0.value) }
            )
            snapshot.classSeries = series.sorted { $0.key < $1.key }.map { (name: $0.key, slices: $0.value) }
            return snapshot
        }
    }
}
