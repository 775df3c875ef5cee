/// Maps request hosts to the garden's sites.
///
/// The rules are the design's addressing step: `NAME.localhost` is `NAME` (browsers
/// resolve `*.localhost` to loopback, so every site is reachable without DNS), bare
/// `localhost` or an IP literal is the portal, and everything else is looked up by
/// name or alias.
public struct SiteRegistry: Sendable, Equatable {
    /// The sites in the order they were declared.
    public private(set) var sites: [SiteEntry]
    /// The canonical host of the portal.
    public private(set) var portalHost: String
    private var byName: [String: Int]

    /// Builds a registry; the caller has already checked names are unique and the portal exists.
    public init(sites: [SiteEntry], portalHost: String) {
        self.sites = sites
        self.portalHost = portalHost
        var byName: [String: Int] = [:]
        for (index, site) in sites.enumerated() {
            byName[site.host] = index
            for alias in site.aliases { byName[alias] = index }
        }
        self.byName = byName
    }

    /// The site with this canonical host or alias.
    public func site(named name: String) -> SiteEntry? {
        byName[name].map { sites[$0] }
    }

    /// The portal site.
    public var portal: SiteEntry? { site(named: portalHost) }

    /// The site a request for `host` reaches, or nil when no such address exists.
    public func site(for host: HostName) -> SiteEntry? {
        if host.isIPLiteral || host.name == "localhost" { return portal }
        if host.name.hasSuffix(".localhost") {
            return site(named: String(host.name.dropLast(".localhost".count)))
        }
        return site(named: host.name)
    }
}
