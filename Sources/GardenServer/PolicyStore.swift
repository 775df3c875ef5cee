import GardenPolicy
import GardenSites
import Synchronization

/// The policy in force with the pages its censor styles show and the site registry
/// (host → folder and zone), swapped whole when a reload succeeds.
///
/// Readers on the event loops keep a copy and compare `generation` (one atomic load,
/// rarely written) to know when to take the new one, so a request is decided entirely
/// under the policy it started with and no lock is taken per request.
public final class PolicyStore: Sendable {
    private let state: Mutex<(policy: Policy, pages: GardenPages, registry: SiteRegistry)>
    private let changes = Atomic<Int>(0)

    init(_ policy: Policy, pages: GardenPages, registry: SiteRegistry) {
        self.state = Mutex((policy, pages, registry))
    }

    /// Counts replacements.
    var generation: Int { changes.load(ordering: .acquiring) }

    /// The policy, pages and registry in force, and their generation.
    func current() -> (generation: Int, policy: Policy, pages: GardenPages, registry: SiteRegistry) {
        state.withLock { (changes.load(ordering: .acquiring), $0.policy, $0.pages, $0.registry) }
    }

    /// Puts a new policy in force for every request that starts from now on; nil pages
    /// or registry keep the current ones.
    func replace(with newPolicy: Policy, pages: GardenPages? = nil, registry: SiteRegistry? = nil) {
        state.withLock {
            $0.policy = newPolicy
            if let pages { $0.pages = pages }
            if let registry { $0.registry = registry }
            changes.add(1, ordering: .releasing)
        }
    }
}
