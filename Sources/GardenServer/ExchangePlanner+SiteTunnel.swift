import GardenPolicy
import GardenSites
import NIOCore

/// The end of a tunnel to a simulated site, where the garden is the site itself.
///
/// The censor decided at the tunnel's door, on the name in `CONNECT` and the one in the
/// TLS handshake (SNI); inside, as on the real network, it sees neither paths nor words:
/// no `paths` or keyword rule is asked, and no page is rewritten. A throttle still paces
/// the tunnel: a censor can slow what it cannot read (Russia slowed Twitter by its name).
struct TunnelledSite: Sendable {
    /// The site's name in the registry.
    var host: String
    /// The censor's decision at the door, without the effects that need to read the page.
    var decision: Decision
    var visitorClass: String
    var account: String?

    init(host: String, decision: Decision, visitorClass: String, account: String?) {
        self.host = host
        var unread = decision
        unread.effects.removeAll(where: \.isRewrite)
        self.decision = unread
        self.visitorClass = visitorClass
        self.account = account
    }
}

extension ExchangePlanner {
    /// The plan for a request read inside a tunnel to `inside`'s site: the site's file,
    /// or a refusal for a request that is not for this site (421) or not a page (405).
    func planInside<Sites: ExchangeSites>(_ inside: TunnelledSite, head: RequestHead, sites: Sites, policy: Policy) -> ExchangePlan {
        let closing = !head.keepsAlive || head.hasBody
        func refuse(_ status: HTTPStatusLine, _ reason: String, close: Bool = false) -> ExchangePlan {
            ExchangePlan(.refuse(status, reason: reason), closing: closing || close)
        }
        guard head.hostCount <= 1 else { return refuse(.badRequest, "a request may carry only one Host header", close: true) }
        guard head.method != .connect else { return refuse(.methodNotAllowed, "this connection is a tunnel's end already") }
        let target: RequestTarget
        switch RequestTarget.parse(method: head.method.description, uri: head.target, host: head.host ?? (head.minorVersion == 0 ? inside.host : nil), requiresHost: true) {
        case .success(let parsed): target = parsed
        case .failure(let problem): return refuse(.badRequest, problem.description, close: true)
        }
        // The connection was made for one site (by its name in the handshake): a request
        // for another is misdirected (RFC 9110, 15.5.20), as a real server would say.
        guard let entry = sites.registry.site(for: target.host), entry.host == inside.host, let site = sites.site(for: target.host) else {
            return refuse(
                .misdirectedRequest, "this connection is to \(inside.host); ask for \(target.host.name) through a tunnel of its own"
            )
        }
        let path: RequestPath
        switch RequestPath.parse(target.pathAndQuery) {
        case .success(let parsed): path = parsed
        case .failure(let rejection): return refuse(.badRequest, rejection.description)
        }
        let plan = ExchangePlan(.unknownHost, closing: closing)
        plan.target = target
        plan.zone = site.zone
        plan.visitorClass = inside.visitorClass
        plan.account = inside.account
        plan.decision = inside.decision
        for effect in inside.decision.effects {
            if case .throttle(let settings) = effect { plan.throttle = settings }
        }
        plan.teachingHeader = Self.teaching(inside.decision, policy: policy, visitorClass: inside.visitorClass).header
        var facts = RequestFacts(
            visitorClass: inside.visitorClass, clientAddress: clientAddress, target: target, path: path, zone: site.zone,
            method: head.method.description
        )
        facts.account = inside.account
        if tracing { plan.facts = facts }
        plan.answer = allowedAnswer(
            head, target: target, path: path, site: site, resolution: nil, decision: inside.decision, facts: facts, policy: policy,
            sites: sites, gateway: nil
        )
        return plan
    }
}
