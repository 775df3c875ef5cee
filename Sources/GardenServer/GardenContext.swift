import GardenAudit
import GardenPolicy
import GardenSites
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// What every connection handler shares: the loaded sites, the policy in force (with its
/// pages and the site registry) and the limits.
///
/// Immutable apart from the site library, which swaps its own content when files change.
final class GardenContext: Sendable {
    let library: SiteLibrary
    let limits: ServerLimits
    /// Who may see what; replaced whole on reload.
    let policies: PolicyStore
    /// Checks the passwords of accounts, off the event loops.
    let credentials = CredentialChecker()
    /// The students signed in with the portal's form, and the teacher's live class moves.
    let students = StudentSessions()
    let logger: Logger
    /// Where every request's audit event goes (log file, live feed, statistics, metrics).
    let audit: AuditTrail
    /// Ports a CONNECT may ask for.
    let tunnelPorts: Set<Int>
    /// The way out to the real network, with its settings (who may leave, the SSRF
    /// guard's allow-list, limits); nil unless `upstream: direct`.
    let upstream: UpstreamClient?
    /// Connection handlers alive in memory: back to zero once every connection has
    /// closed (a test holds the server to that, so no connection can leak).
    let liveHandlers = Atomic<Int>(0)
    /// The ports the garden listens on (its listeners, once bound, and the teacher's
    /// desk): on a local address they are the garden itself, never fetched or tunnelled
    /// to through its way out.
    let itself: GardenItself
    /// Whether the students' lab page is served.
    let lab: Bool
    /// The garden's certificate authority, for the simulated sites' end of TLS tunnels.
    let siteCertificates: SiteCertificates
    private let loopLocal = NIOLockedValueBox<[ObjectIdentifier: LoopLocalSites]>([:])

    init(
        registry: SiteRegistry, library: SiteLibrary, limits: ServerLimits, policy: Policy, pages: GardenPages, logger: Logger,
        audit: AuditTrail, tunnelPorts: Set<Int> = [80, 443], upstream: UpstreamSettings = UpstreamSettings(),
        group: any EventLoopGroup, lab: Bool = true, siteCertificates: SiteCertificates
    ) {
        self.lab = lab
        self.siteCertificates = siteCertificates
        self.tunnelPorts = tunnelPorts
        let itself = GardenItself()
        self.itself = itself
        self.upstream = upstream.mode == .direct ? UpstreamClient(settings: upstream, itself: itself, group: group) : nil
        self.policies = PolicyStore(policy, pages: pages, registry: registry)
        self.library = library
        self.limits = limits
        self.logger = logger
        self.audit = audit
    }

    /// The private copy of the sites for `eventLoop`, made on first use. Called once per
    /// connection, never per request.
    func sites(on eventLoop: any EventLoop) -> LoopLocalSites {
        loopLocal.withLockedValue { copies in
            if let existing = copies[ObjectIdentifier(eventLoop)] { return existing }
            let fresh = LoopLocalSites(library: library, policies: policies, eventLoop: eventLoop)
            copies[ObjectIdentifier(eventLoop)] = fresh
            return fresh
        }
    }
}
