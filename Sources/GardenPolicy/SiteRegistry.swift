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
        index(for: host).map { sites[$0] }
    }

    /// The position in `sites` of the site `host` reaches: the cheap form of
    /// `site(for:)`, for the per-request path.
    public func index(for host: HostName) -> Int? {
        if host.isIPLiteral { return portalIndex }
        let name = host.name
        let suffix = ".localhost".utf8
        if name.utf8.count > suffix.count, name.utf8.reversed().starts(with: suffix.reversed()) {
            return byName[String(name.utf8.dropLast(suffix.count))!]
        }
        if name == "localhost" { return portalIndex }
        return byName[name]
    }

    private var portalIndex: Int? { byName[portalHost] }
}
