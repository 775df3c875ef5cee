import Synchronization

/// Counts open client connections so the garden can refuse new ones beyond a limit
/// instead of running out of file descriptors.
final class ConnectionLimiter: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Claims a slot; false when the limit is reached (nothing is claimed then).
    func admit() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = open.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives back a slot claimed by `admit()`.
    func release() {
        open.subtract(1, ordering: .acquiringAndReleasing)
    }

    /// Connections open now.
    var count: Int { open.load(ordering: .relaxed) }
}
