/// Failed sign-ins per client address, and how long the next attempt must wait: nothing
/// for the first few, then 1, 2, 4, ... seconds after the last one, up to 15 minutes.
///
/// A value kept inside its owner's lock (the desk's sessions, the students'), so that an
/// attempt is counted in the same lock as the check: forty parallel guesses cannot all
/// pass before the first of them is counted.
package struct SignInBackoff: Sendable {
    private var failures: [String: (count: Int, last: ContinuousClock.Instant)] = [:]
    /// Failures allowed before the back-off starts.
    package static let freeAttempts = 3
    /// Addresses whose failed attempts are remembered at most.
    package static let maxRemembered = 10_000

    package init() {}

    /// Takes an attempt for `client` before its password is checked, or says how long it
    /// must wait first. The attempt counts as a failure from now on (`forgive` forgets).
    package mutating func reserve(client: String, now: ContinuousClock.Instant = .now) -> Duration? {
        if let failed = failures[client], failed.count >= Self.freeAttempts {
            let penalty = Duration.seconds(min(900, 1 << min(20, failed.count - Self.freeAttempts)))
            let elapsed = now - failed.last
            if elapsed < penalty { return penalty - elapsed }
        }
        if failures[client] == nil, failures.count >= Self.maxRemembered {
            // Keyed by address: a flood from many addresses forgets the long-quiet ones,
            // then the quietest half (never all: that would give everyone new tries).
            failures = failures.filter { now - $0.value.last < .seconds(900) }
            if failures.count >= Self.maxRemembered {
                let newest = failures.sorted { $0.value.last > $1.value.last }.prefix(Self.maxRemembered / 2)
                failures = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
            }
        }
        failures[client] = ((failures[client]?.count ?? 0) + 1, now)
        return nil
    }

    /// An attempt taken but never checked (too busy): it does not count.
    package mutating func giveBack(client: String) {
        guard let failed = failures[client] else { return }
        failures[client] = failed.count > 1 ? (failed.count - 1, failed.last) : nil
    }

    /// The client's password was right: its attempts are forgotten.
    package mutating func forgive(client: String) {
        failures[client] = nil
    }
}
