import Foundation
import GardenPolicy
import GardenRewrite
import GardenSites
import NIOCore

/// A request a teacher describes to a tool, as a student's browser would send it to the
/// garden's proxy: `explain`, `reveal`, `check`'s policy tests, `replay` and the desk's
/// trace ask about one of these.
public struct Visit: Sendable {
    /// `http://host/path` (a proxy request), or `host:port` for `CONNECT`.
    public var url: String
    public var method: String
    /// The class the visitor comes as (`--as`, a listener's persona); an account's wins.
    public var persona: String?
    /// Signed in as this account (its password taken as right).
    public var account: String?
    public var clientAddress: [UInt8]?
    /// When the request is made, seconds since 1970 (for `schedule` conditions).
    public var time: Int64

    public init(url: String, method: String = "GET", persona: String? = nil, account: String? = nil, clientAddress: [UInt8]? = nil, time: Int64) {
        self.url = url
        self.method = method
        self.persona = persona
        self.account = account
        self.clientAddress = clientAddress
        self.time = time
    }

    /// The visit of a browser asked for `url` with `method`, as it asks the garden's proxy:
    /// an `https://` page with `CONNECT host:443` (the tunnel, decided on its name), an
    /// address without a scheme as `http://`.
    public static func asBrowserAsks(url: String, method: String = "GET") -> (url: String, method: String) {
        let upper = method.uppercased()
        if url.hasPrefix("https://"), upper == "GET" || upper == "CONNECT" {
            let authority = url.dropFirst("https://".count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let hasPort = authority.hasPrefix("[") ? authority.contains("]:") : authority.contains(":")
            return (hasPort ? String(authority) : authority + ":443", "CONNECT")
        }
        if upper == "CONNECT" || url.contains("://") { return (url, upper) }
        return ("http://" + url, upper)
    }
}

/// What the garden would do with a `Visit`: planned by the data plane's own
/// `ExchangePlanner`, so a tool can never tell a teacher something the garden would not do.
public struct PlannedVisit {
    /// The kind of answer the visitor gets.
    public enum Outcome: Equatable, Sendable {
        /// An error (400, 403, 405, 502, 503) with its reason, before or after the censor.
        case refused(status: Int, reason: String)
        /// The sign-in page (401/407).
        case challenged(problem: String?)
        /// The censor's answer: the decision's style (block page, 451, drop, ...).
        case censored
        /// A tunnel out to the real host, through the way out.
        case tunnel
        /// A tunnel to a simulated site, answered by the garden as the site (TLS with
        /// its authority's certificate); the censor sees no path or word inside.
        case siteTunnel
        /// The page fetched from the real host, through the way out.
        case fetched
        /// The in-world page of an address that does not exist.
        case noSuchAddress
        /// A file of a simulated site, as it is on disk.
        case page
        /// A page of a simulated site as the censor's rewriting changes it.
        case rewrittenPage
        /// A folder asked for without its slash: 301 to this address.
        case moved(to: String)
        /// No such file on the site (404).
        case missing
        /// The proxy auto-config file.
        case proxyAutoConfig
    }

    public let outcome: Outcome
    /// The facts the censor decided on, and its decision with the rules' trace; nil when
    /// the request was refused before the censor saw it.
    public let facts: RequestFacts?
    public let decision: Decision?
    /// The site's file the visitor gets, changed or not (`page`, `rewrittenPage`).
    public let file: StaticFile?
    private let rewrite: PageRewrite?
    private let reachability: ((String) -> Bool)?

    /// The page as the visitor receives it, with every change made (`rewrittenPage` only).
    public func rewrittenPage() -> RewrittenPage? {
        guard let file, let rewrite, let reachability else { return nil }
        return HTMLRewriter.rewrite(file.body.readableBytesView, plan: rewrite.plan, isReachable: reachability)
    }

    init(_ plan: ExchangePlan, sites: SiteFolders, wayOut: UpstreamSettings?) {
        facts = plan.facts
        decision = plan.decision
        var file: StaticFile?
        var rewrite: PageRewrite?
        var reachability: ((String) -> Bool)?
        switch plan.answer {
        case .refuse(let status, let reason, _): outcome = .refused(status: status.code, reason: reason)
        // (A tool's planner serves no lab page or sign-in form: they are the data plane's.)
        case .proxyAutoConfig, .lab, .signIn, .authorityCertificate: outcome = .proxyAutoConfig
        case .checkPassword: outcome = .challenged(problem: "the password could not be checked")
        case .challenge(let problem, _): outcome = .challenged(problem: problem)
        case .censor: outcome = .censored
        case .tunnel: outcome = .tunnel
        case .siteTunnel: outcome = .siteTunnel
        case .fetch: outcome = .fetched
        case .unknownHost: outcome = .noSuchAddress
        case .file(let served):
            outcome = .page
            file = served
        case .rewrittenFile(let served, let pageRewrite, _, let facts):
            outcome = .rewrittenPage
            file = served
            rewrite = pageRewrite
            let policy = sites.config.policy
            reachability = PageRewrite.reachability(policy: policy, facts: facts, leavesGarden: wayOut?.letsOut(facts.visitorClass) ?? false) {
                sites.site(for: $0)?.zone
            }
        case .moved(let location): outcome = .moved(to: location)
        case .missing: outcome = .missing
        }
        self.file = file
        self.rewrite = rewrite
        self.reachability = reachability
    }
}

/// Plans `Visit`s against a configuration and its sites with the data plane's
/// `ExchangePlanner`, as a request to one of the garden's listeners.
public struct VisitPlanner {
    /// Why a visit could not be planned: the address is not one a request can carry.
    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    public let sites: SiteFolders

    public init(sites: SiteFolders) {
        self.sites = sites
    }

    /// What the garden does with `visit`.
    public func plan(_ visit: Visit) throws(Unreadable) -> PlannedVisit {
        let config = sites.config
        let head = try Self.head(of: visit)
        let itself = GardenItself()
        for listener in config.listeners { itself.addListener(port: listener.address.port) }
        let wayOut = config.upstream.mode == .direct ? config.upstream : nil
        let account = visit.account
        let planner = ExchangePlanner(
            persona: visit.persona, tunnelPorts: config.tunnelPorts, wayOut: wayOut, itself: itself,
            // The account's password is taken as right; an account the policy lacks cannot sign in.
            rememberedVerdict: { credentials, policy in
                credentials.name == account && policy.accounts[credentials.name] != nil ? .signedIn(account: credentials.name) : .rejected
            },
            tracing: true
        )
        planner.connected(client: visit.clientAddress, local: nil, localPort: nil)
        let plan = planner.plan(head, sites: sites, policy: config.policy, now: visit.time)
        return PlannedVisit(plan, sites: sites, wayOut: wayOut)
    }

    /// The head a browser sends the garden's proxy for `visit`, read by the data plane's parser.
    static func head(of visit: Visit) throws(Unreadable) -> RequestHead {
        let method = visit.method.uppercased()
        let isTunnel = method == "CONNECT"
        let problem = Unreadable(description: isTunnel
            ? "'\(visit.url)' is not a host:port a browser's CONNECT asks for (e.g. worldnews.example:443)"
            : "'\(visit.url)' is not an http:// address the garden can read")
        // A space or a control character would end the request line or start a field.
        guard !visit.url.isEmpty, !method.isEmpty,
              !visit.url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
              !method.unicodeScalars.contains(where: { !($0.properties.isAlphabetic && $0.isASCII) })
        else { throw problem }
        let authority: Substring
        if isTunnel {
            authority = Substring(visit.url)
        } else {
            guard let scheme = visit.url.range(of: "://") else { throw problem }
            authority = visit.url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        }
        var text = "\(method) \(visit.url) HTTP/1.1\r\nHost: \(authority)\r\n"
        if let account = visit.account {
            text += "Proxy-Authorization: Basic \(Data((account + ":").utf8).base64EncodedString())\r\n"
        }
        text += "\r\n"
        let parser = RequestHeadParser(maxURIBytes: 1 << 16, maxHeaderBytes: 1 << 16)
        let outcome = Array(text.utf8).withUnsafeBytes { parser.parse($0) }
        guard case .head(let head, _) = outcome else { throw problem }
        return head
    }
}
