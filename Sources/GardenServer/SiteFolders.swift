import GardenPolicy
import GardenSites

/// The sites of a configuration, read from their folders as the teaching tools need
/// them: what `explain`, `reveal`, `check`, `replay` and the desk's trace plan a request
/// against, with the same `ExchangePlanner` as the data plane.
///
/// A site is read the first time a request reaches it, then kept; a site that cannot be
/// read is, as for the running garden, an address that does not exist. Used by one
/// caller at a time (a command, or one trace).
public final class SiteFolders {
    /// The configuration whose sites, policy and pages these are.
    public let config: GardenConfig
    /// The folder of site folders.
    public let directory: String
    let registry: SiteRegistry
    let pages: GardenPages
    private var contents: [String: SiteContent?]

    /// - Parameter preloaded: content already read, by site host (kept, not read again).
    public init(config: GardenConfig, directory: String, preloaded: [String: SiteContent] = [:]) {
        self.config = config
        self.directory = directory
        self.registry = config.sites
        self.pages = (try? GardenPages(portalHost: config.sites.portalHost, templates: config.templates))
            ?? .builtIn(portalHost: config.sites.portalHost)
        self.contents = preloaded.mapValues { $0 }
    }

    /// The folder of the site with canonical host `host`.
    public func folder(of site: SiteEntry) -> String {
        directory.hasSuffix("/") ? directory + site.folder : directory + "/" + site.folder
    }

    /// The content of `site`, read from its folder the first time; nil when it cannot be read.
    public func content(of site: SiteEntry) -> SiteContent? {
        if let known = contents[site.host] { return known }
        let content = try? SiteLoader.load(folder: folder(of: site)).site.content
        contents[site.host] = .some(content)
        return content
    }
}

extension SiteFolders: ExchangeSites {
    func site(for host: HostName) -> (zone: Zone, content: SiteContent)? {
        guard let entry = registry.site(for: host), let content = content(of: entry) else { return nil }
        return (entry.zone, content)
    }

    func contentWords(in file: StaticFile) -> Set<String> {
        ContentWords.of(file, policy: config.policy)
    }

    func pageRewrite(decision: Decision, facts: RequestFacts, policy: Policy, pages: GardenPages, portalHost: String) -> PageRewrite? {
        PageRewrite(decision: decision, facts: facts, policy: policy, pages: pages, portalHost: portalHost)
    }
}
