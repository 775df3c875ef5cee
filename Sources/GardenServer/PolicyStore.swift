import GardenPolicy
import Synchronization

/// The policy in force with the pages its censor styles show, swapped whole when a
/// reload succeeds.
///
/// Readers on the event loops keep a copy and compare `generation` (one atomic load,
/// rarely written) to know when to take the new one, so a request is decided entirely
/// under the policy it started with and no lock is taken per request.
public final class PolicyStore: Sendable {
    private let state: Mutex<(policy: Policy, pages: GardenPages)>
    private let changes = Atomic<Int>(0)

    init(_ policy: Policy, pages: GardenPages) {
        self.state = Mutex((policy, pages))
    }

    /// Counts replacements.
    var generation: Int { changes.load(ordering: .acquiring) }

    /// The policy and pages in force, and their generation.
    func current() -> (generation: Int, policy: Policy, pages: GardenPages) {
        state.withLock { (changes.load(ordering: .acquiring), $0.policy, $0.pages) }
    }

    /// Puts a new policy in force for every request that starts from now on; nil pages
    /// keep the current ones.
    func replace(with newPolicy: Policy, pages: GardenPages? = nil) {
        state.withLock {
            $0.policy = newPolicy
            if let pages { $0.pages = pages }
            changes.add(1, ordering: .releasing)
        }
    }
}
