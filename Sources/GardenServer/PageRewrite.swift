import GardenPolicy
import GardenRewrite
import GardenSites

/// How a decision's `rewrite` effects apply to one visitor's page: the plan for the
/// rewriter, and the part of the visitor the result depends on (for caching). The one
/// place the data plane and `reveal` turn a decision into a rewrite.
struct PageRewrite {
    let plan: RewritePlan
    /// The class, plus the account, the client address and the minute when the result
    /// can depend on them (rules on accounts, addresses or schedules; a watermark).
    let viewer: String
    /// `plan`'s hash, for cache keys.
    let planHash: Int

    /// Nil when the decision has no `rewrite` effect.
    init?(decision: Decision, facts: RequestFacts, policy: Policy, pages: GardenPages, portalHost: String) {
        let sets = decision.effects.compactMap { effect -> RewriteSet? in
            if case .rewrite(let set) = effect { return set }
            return nil
        }
        guard !sets.isEmpty else { return nil }
        var plan = RewritePlan(sets: sets, outsidePage: "http://\(portalHost)/outside.html")
        let watermarked = sets.contains(where: \.watermark)
        var viewer = facts.visitorClass
        if policy.looksAtAccounts || watermarked { viewer += "\u{0}" + (facts.account ?? "") }
        if policy.looksAtClients { viewer += "\u{0}" + (facts.clientAddress.map { $0.map(String.init).joined(separator: ".") } ?? "") }
        if policy.looksAtTime || watermarked { viewer += "\u{0}\(facts.time / 60)" }
        if watermarked {
            let minute = HTTPDate.format(Int(facts.time - facts.time % 60))
            let who = facts.visitorClass + (facts.account.map { " (\($0))" } ?? "")
            plan.watermark = "Seen by \(who) at \(minute). 열람 기록: 모든 페지에는 보는 사람이 찍혀 있습니다."
        }
        if let name = sets.lazy.compactMap(\.banner).first {
            plan.bannerHTML = pages.banner(named: name, host: facts.host, visitorClass: facts.visitorClass)
        }
        self.plan = plan
        self.viewer = viewer
        self.planHash = plan.hashValue
    }

    /// This rewrite, for a page served in the gateway form too.
    func inGatewayForm(_ gateway: GatewayForm) -> PageRewrite {
        var plan = self.plan
        plan.gateway = gateway
        return PageRewrite(plan: plan, viewer: viewer)
    }

    /// Only the gateway form: a page no `rewrite` effect changes, reached by the garden's address.
    init(gateway: GatewayForm, portalHost: String) {
        var plan = RewritePlan(outsidePage: "http://\(portalHost)/outside.html")
        plan.gateway = gateway
        self.init(plan: plan, viewer: "")
    }

    private init(plan: RewritePlan, viewer: String) {
        self.plan = plan
        self.viewer = viewer
        self.planHash = plan.hashValue
    }

    /// Whether the visitor of `facts` may reach a host: it is a site of the garden (or,
    /// when `leavesGarden`, any host: the garden fetches the rest from the real network
    /// for this visitor) and the policy allows a GET of its home page, at the same moment.
    static func reachability(
        policy: Policy, facts: RequestFacts, leavesGarden: Bool = false, zone: @escaping (HostName) -> Zone?
    ) -> (String) -> Bool {
        { host in
            guard let name = HostName(authority: host) else { return false }
            let siteZone = zone(name)
            if siteZone == nil, !leavesGarden { return false }
            var link = facts
            link.host = name.name
            link.zone = siteZone
            link.path = "/"
            link.query = ""
            link.method = "GET"
            link.contentWords = []  // the words of this page say nothing of the linked one
            return policy.decide(link, tracing: false).action == .allow
        }
    }
}
