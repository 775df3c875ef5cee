import GardenPolicy
import GardenSites
import Logging

/// What every connection handler shares: the site registry, the loaded sites and the limits.
///
/// Immutable apart from the site library, which swaps its own content when files change.
final class GardenContext: Sendable {
    let registry: SiteRegistry
    let library: SiteLibrary
    let limits: ServerLimits
    let pages: GardenPages
    let logger: Logger

    init(registry: SiteRegistry, library: SiteLibrary, limits: ServerLimits, logger: Logger) {
        self.registry = registry
        self.library = library
        self.limits = limits
        self.pages = GardenPages(portalHost: registry.portalHost)
        self.logger = logger
    }
}
