import GardenPolicy
import Synchronization

/// The policy in force, swapped whole when a reload succeeds.
///
/// Readers on the event loops keep a copy and compare `generation` (one atomic load,
/// rarely written) to know when to take the new one, so a request is decided entirely
/// under the policy it started with and no lock is taken per request.
public final class PolicyStore: Sendable {
    private let policy: Mutex<Policy>
    private let changes = Atomic<Int>(0)

    init(_ policy: Policy) {
        self.policy = Mutex(policy)
    }

    /// Counts replacements.
    var generation: Int { changes.load(ordering: .acquiring) }

    /// The policy in force and its generation.
    func current() -> (generation: Int, policy: Policy) {
        policy.withLock { (changes.load(ordering: .acquiring), $0) }
    }

    /// Puts a new policy in force for every request that starts from now on.
    func replace(with newPolicy: Policy) {
        policy.withLock {
            $0 = newPolicy
            changes.add(1, ordering: .releasing)
        }
    }
}
