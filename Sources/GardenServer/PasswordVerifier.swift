#if canImport(Glibc)
import Glibc
#endif
import GardenPolicy
import NIOPosix
import Synchronization

/// Runs scrypt password checks on threads of their own, at the lowest CPU priority, with
/// a bounded queue.
///
/// scrypt costs about a tenth of a second of one core on purpose. Run on a shared pool,
/// a flood of wrong passwords queued behind it whatever else that pool does (the way
/// out's name lookups: a proxied request took 13 s); run at normal priority, it took
/// the event loops' cores. (The data plane's sign-ins and the desk each have one.) Here the checks wait only for each other, at most
/// `maxWaiting` of them (more are told "busy"), and the scheduler gives the event loops
/// the CPU first.
package final class PasswordVerifier: Sendable {
    private let pool: NIOThreadPool
    private let waiting = Atomic<Int>(0)
    let maxWaiting: Int

    package init(threads: Int, maxWaiting: Int) {
        self.pool = NIOThreadPool(numberOfThreads: threads)
        self.maxWaiting = maxWaiting
        pool.start()
    }

    /// Whether `password` is the one `hash` was made from; nil when too many checks are
    /// waiting already (answer 503 then).
    package func verify(_ password: [UInt8], against hash: PasswordHash) async -> Bool? {
        let (_, waitingNow) = waiting.add(1, ordering: .relaxed)
        guard waitingNow <= maxWaiting else {
            waiting.subtract(1, ordering: .relaxed)
            return nil
        }
        defer { waiting.subtract(1, ordering: .relaxed) }
        return try? await pool.runIfActive {
            Self.lowerThisThreadsPriority()
            return hash.verify(password)
        }
    }

    package func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    /// Nice 19 for the calling thread only (Linux schedules threads by their own nice
    /// value): password checks yield the CPU to the event loops.
    static func lowerThisThreadsPriority() {
        #if os(Linux)
        // On Linux (NPTL) the nice value is per thread, and 0 names the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        #endif
    }
}
