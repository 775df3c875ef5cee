import GardenPolicy
import GardenSites

/// What `ExchangePlanner` asks of the sites: which site a host reaches, the words a page
/// holds, the rewrite a decision makes, and the censor's pages.
///
/// Two kinds answer: each event loop's `LoopLocalSites` for the data plane, and
/// `SiteFolders` for the teaching tools (`explain`, `reveal`, `check`, `replay`, the
/// desk's trace), so that a tool plans a request exactly as the data plane does.
protocol ExchangeSites: AnyObject {
    /// The registry in force: hosts, aliases and zones.
    var registry: SiteRegistry { get }
    /// The censor's pages that go with the policy in force.
    var pages: GardenPages { get }
    /// The site `host` reaches, with its zone and its content; nil when it reaches none.
    func site(for host: HostName) -> (zone: Zone, content: SiteContent)?
    /// The policy's content keywords found in `file`.
    func contentWords(in file: StaticFile) -> Set<String>
    /// The rewrite a decision's effects make of a page for the visitor of `facts`.
    func pageRewrite(decision: Decision, facts: RequestFacts, policy: Policy, pages: GardenPages, portalHost: String) -> PageRewrite?
}

extension LoopLocalSites: ExchangeSites {}
