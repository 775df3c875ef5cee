import GardenPolicy
import GardenRewrite
import GardenSites
import NIOCore

/// Turns a request head into an `ExchangePlan`, touching no socket: it reads the target,
/// finds the site, signs the visitor in (or asks for the password check), classes the
/// visitor, gathers the page's content words, asks the policy, and picks the answer.
///
/// In the spirit of nginx's request phases and of SwiftNIO's state machines that return
/// actions: the connection handler reads bytes, asks the planner, and carries the plan
/// out; it decides nothing itself, so routing, identity and censorship are table-tested
/// without sockets (`ExchangePlannerTests`). One planner per connection, used on its
/// event loop only; the teaching tools make one per request they ask about
/// (`VisitPlanner`), with `SiteFolders` for the sites.
final class ExchangePlanner {
    /// The class of everyone who comes through this listener, if it has one.
    let persona: String?
    /// The client's address bytes, for `clients` conditions.
    private(set) var clientAddress: [UInt8]?
    /// The listener's own address bytes and port: a proxy request for them is the garden itself.
    private(set) var localAddress: [UInt8]?
    private(set) var localPort: Int?
    /// Ports a CONNECT may ask for.
    let tunnelPorts: Set<Int>
    /// The way out's settings (`upstream: direct`); nil without one.
    let wayOut: UpstreamSettings?
    /// The garden's own ports.
    let itself: GardenItself
    /// A password's verdict when it is known without scrypt (a remembered success).
    let rememberedVerdict: (BasicCredentials, Policy) -> CredentialChecker.Verdict?
    /// Whether plans keep the censor's facts and the rules' trace (the teaching tools
    /// show them; the data plane does not pay for them).
    let tracing: Bool
    /// Whether the lab page is served (`lab:` in garden.yaml).
    let lab: Bool
    /// The students signed in with the portal's form, and the teacher's moves; nil for
    /// the teaching tools (which describe a visitor, not a session).
    let students: StudentSessions?
    /// Set for the requests read inside a tunnel to a simulated site, where the garden is
    /// the site itself: the censor decided at the tunnel's door and sees nothing inside.
    let tunnelledSite: TunnelledSite?

    /// A class, not a struct: the handler holds one per connection and calls it per
    /// request, and a struct kept in a class's property is copied (a retain per field)
    /// for each call.
    init(
        persona: String?, tunnelPorts: Set<Int>, wayOut: UpstreamSettings?, itself: GardenItself,
        rememberedVerdict: @escaping (BasicCredentials, Policy) -> CredentialChecker.Verdict?, tracing: Bool = false, lab: Bool = false,
        students: StudentSessions? = nil, tunnelledSite: TunnelledSite? = nil
    ) {
        self.students = students
        self.tunnelledSite = tunnelledSite
        self.persona = persona
        self.tunnelPorts = tunnelPorts
        self.wayOut = wayOut
        self.itself = itself
        self.rememberedVerdict = rememberedVerdict
        self.tracing = tracing
        self.lab = lab
    }

    /// Tells the planner the connection's addresses, once it is open.
    func connected(client: [UInt8]?, local: [UInt8]?, localPort: Int?) {
        self.clientAddress = client
        self.localAddress = local
        self.localPort = localPort
    }

    /// The plan for `head`.
    ///
    /// - Parameters:
    ///   - sites: this event loop's sites and pages.
    ///   - policy: the policy in force (`sites.policy`), which the caller carries the plan
    ///     out under (passed in, not kept in the plan: a copy costs a retain per field).
    ///   - checkedCredentials: the password check's verdict, when the request waited for one.
    ///   - now: seconds since 1970, for `schedule` conditions.
    func plan<Sites: ExchangeSites>(
        _ head: RequestHead, sites: Sites, policy: Policy, checkedCredentials: CredentialChecker.Verdict? = nil, now: Int64
    ) -> ExchangePlan {
        if let tunnelledSite { return planInside(tunnelledSite, head: head, sites: sites, policy: policy) }
        let request: ReadRequest
        switch read(head, sites: sites) {
        case .answered(let answered): return answered
        case .located(let located): request = located
        }
        let (target, path, site) = (request.target, request.path, request.site)
        let plan = ExchangePlan(.unknownHost, closing: request.closing)
        plan.target = target
        plan.zone = site?.zone
        plan.gateway = request.gateway
        // The censor looks at every request before anything is served. The class is found
        // again per request: a reloaded policy may class addresses anew.
        let isProxyRequest = (target.form == .absolute || target.form == .authority) && request.gateway == nil
        let field = policy.accounts.isEmpty ? nil : isProxyRequest ? head.proxyAuthorization : head.authorization
        var account: String?
        if let field {
            switch signIn(field, policy: policy, checkedCredentials: checkedCredentials) {
            case .answer(let answer):
                plan.answer = answer
                return plan
            case .account(let name):
                account = name
            }
        }
        // Else the student signed in with the portal's form (a cookie, or this machine's address).
        var session: StudentSessions.Session?
        if account == nil, let students, !policy.accounts.isEmpty {
            session = signedInStudent(head, students: students, policy: policy)
            account = session?.student
        }
        if let answer = signInAnswer(head, target: target, registry: sites.registry, session: session) {
            plan.answer = answer
            plan.account = account
            return plan
        }
        decide(plan, head: head, target: target, path: path, site: site, account: account, sites: sites, policy: policy, now: now)
        return plan
    }

    /// A simulated site: its zone and its content.
    typealias Site = (zone: Zone, content: SiteContent)

    /// A request read as far as where it goes.
    private struct ReadRequest {
        var target: RequestTarget
        var path: RequestPath
        /// The simulated site it reaches, if it is one.
        var site: Site?
        var closing: Bool
        /// Set when it came in the gateway form.
        var gateway: GatewayForm?
    }

    /// How far a request head could be read.
    private enum Reading {
        /// Answered already: refused (malformed, an https URL, a tunnel's port) or the PAC file.
        case answered(ExchangePlan)
        /// Read: its target, path and site.
        case located(ReadRequest)
    }

    /// Reads the target and the path, and finds the site the request goes to.
    private func read<Sites: ExchangeSites>(_ head: RequestHead, sites: Sites) -> Reading {
        // A body the garden does not read would be taken for the next request: close after answering.
        var closing = !head.keepsAlive || head.hasBody
        func refuse(_ status: HTTPStatusLine, _ reason: String, close: Bool = false) -> Reading {
            .answered(ExchangePlan(.refuse(status, reason: reason), closing: closing || close))
        }

        guard head.hostCount <= 1 else { return refuse(.badRequest, "a request may carry only one Host header", close: true) }
        var target: RequestTarget
        switch RequestTarget.parse(method: head.method.description, uri: head.target, host: head.host, requiresHost: head.minorVersion >= 1) {
        case .success(let parsed): target = parsed
        case .failure(let problem): return refuse(.badRequest, problem.description, close: true)
        }
        if target.isHTTPS {
            // Never a silent downgrade: https goes through a tunnel or not at all.
            return refuse(.badRequest, "the garden's proxy fetches http:// URLs only; a browser asks for https:// pages with CONNECT")
        }
        let isTunnel = head.method == .connect
        if isTunnel {
            // A tunnel is the connection's last request; the censor decides on host and port.
            closing = true
            guard let port = target.host.port, tunnelPorts.contains(port) else {
                return refuse(.forbidden, "tunnels go to ports \(tunnelPorts.sorted().map(String.init).joined(separator: ", ")) only")
            }
        }
        var gateway: GatewayForm?
        if target.form == .origin, !isTunnel, target.host.isIPLiteral || target.host.name == "localhost" {
            switch atTheGardensAddress(head, portal: sites.registry.portalHost) {
            case .answer(let answer): return .answered(ExchangePlan(answer, closing: closing))
            case .gateway(let real, let form): (target, gateway) = (real, form)
            case .unreadable: return refuse(.badRequest, "'\(head.target)' is not an address of the garden's gateway form (/site/HOST/PATH)")
            }
        }
        let path: RequestPath
        switch RequestPath.parse(isTunnel ? "/" : target.pathAndQuery) {
        case .success(let parsed): path = parsed
        case .failure(let rejection): return refuse(.badRequest, rejection.description)
        }
        // A tunnel reaches a simulated site only by its name: `localhost` and addresses are
        // not the portal there, but destinations out of the garden. Nor is a proxy request
        // for an address or `localhost` when the garden has a way out, unless it names the
        // garden itself.
        let addressLeaves = target.form == .absolute && wayOut != nil
            && (target.host.isIPLiteral || target.host.name == "localhost") && !isGardenItself(target.host)
        let site = addressLeaves || (isTunnel && sites.registry.site(named: target.host.name) == nil) ? nil : sites.site(for: target.host)
        return .located(ReadRequest(target: target, path: path, site: site, closing: closing, gateway: gateway))
    }

    /// What the credentials of a request lead to.
    private enum SignIn {
        /// An answer instead of the page: the password check, a challenge, or "busy".
        case answer(ExchangePlan.Answer)
        /// Signed in as this account.
        case account(String)
    }

    /// Signs the visitor in with the `Authorization` (or `Proxy-Authorization`) `field`:
    /// by a remembered verdict, the one the password check gave, or a check to be made.
    private func signIn(_ field: String, policy: Policy, checkedCredentials: CredentialChecker.Verdict?) -> SignIn {
        guard let credentials = BasicCredentials(fieldValue: field) else {
            return .answer(.challenge(problem: "the credentials are not HTTP Basic", teachersNote: nil))
        }
        switch checkedCredentials ?? rememberedVerdict(credentials, policy) {
        case .none:
            return .answer(.checkPassword(credentials, policy))
        case .signedIn(let name):
            return .account(name)
        case .rejected:
            return .answer(.challenge(problem: "wrong name or password", teachersNote: nil))
        case .busy:
            return .answer(.refuse(.serviceUnavailable, reason: "too many sign-ins at once; try again in a moment", extraHeaders: "Retry-After: 1\r\n"))
        }
    }

    /// Classes the visitor, gathers the facts (with the page's content words when rules
    /// look for them), asks the policy, and puts the decision and its answer in `plan`.
    private func decide<Sites: ExchangeSites>(
        _ plan: ExchangePlan, head: RequestHead, target: RequestTarget, path: RequestPath, site: Site?, account: String?,
        sites: Sites, policy: Policy, now: Int64
    ) {
        var visitorClass = policy.visitorClass(account: account, persona: persona, clientAddress: clientAddress).visitorClass
        // The teacher may have moved the student to another class, live.
        if let account, let moved = students?.movedClass(of: account) { visitorClass = moved }
        plan.visitorClass = visitorClass
        plan.account = account
        var facts = RequestFacts(
            visitorClass: visitorClass, clientAddress: clientAddress, target: target, path: path, zone: site?.zone,
            method: head.method.description
        )
        // A tunnel's path is inside the encryption: unknown, so no `paths` rule can match.
        if head.method == .connect { facts.path = "" }
        facts.account = account
        facts.time = now
        // Content rules need the page before the decision; it is then resolved only once.
        var resolution: SiteContent.Resolution?
        if !policy.contentKeywords.isEmpty, let content = site?.content, head.method == .get || head.method == .head {
            resolution = content.resolve(path)
            if case .file(let file) = resolution, file.isHTML {
                facts.contentWords = sites.contentWords(in: file)
            }
        }
        let decisionStarted = NIODeadline.now().uptimeNanoseconds
        let decision = policy.decide(facts, tracing: tracing)
        if tracing { plan.facts = facts }
        plan.decisionNanoseconds = Int(NIODeadline.now().uptimeNanoseconds &- decisionStarted)
        for effect in decision.effects {
            if case .throttle(let settings) = effect { plan.throttle = settings }
        }
        let (teachingHeader, note) = Self.teaching(decision, policy: policy, visitorClass: visitorClass)
        plan.teachingHeader = teachingHeader
        if decision.action == .allow {
            plan.answer = allowedAnswer(
                head, target: target, path: path, site: site, resolution: resolution, decision: decision, facts: facts,
                policy: policy, sites: sites, gateway: plan.gateway
            )
        } else {
            plan.answer = .censor(teachersNote: note)
        }
        plan.decision = decision
    }

    /// The answer to a request the censor lets through: a tunnel, a fetch from the real
    /// host, or a file of a simulated site (rewritten if a rule says so).
    func allowedAnswer<Sites: ExchangeSites>(
        _ head: RequestHead, target: RequestTarget, path: RequestPath, site: Site?,
        resolution: SiteContent.Resolution?, decision: Decision, facts: RequestFacts, policy: Policy, sites: Sites,
        gateway: GatewayForm?
    ) -> ExchangePlan.Answer {
        let visitorClass = facts.visitorClass
        let isHEAD = head.method == .head
        if head.method == .connect {
            // A simulated site: the garden is the site's end of the tunnel (TLS on every
            // port but 80, with a certificate from the garden's authority).
            if site != nil { return .siteTunnel(facts) }
            if let wayOut, wayOut.letsOut(visitorClass) { return .tunnel(wayOut, facts) }
            // Allowed, but there is nowhere to tunnel to: without a way out the garden cannot leave.
            return .refuse(
                .badGateway,
                reason: "the censor lets \(target.host.name) through, but the garden cannot open a tunnel to it: "
                    + (wayOut != nil
                        ? "it has no way out to the real internet for \(visitorClass) visitors (upstream classes in garden.yaml)"
                        : "it has no way out to the real internet (upstream is off in garden.yaml)")
            )
        }
        guard let content = site?.content else {
            // Not a simulated site: the real network, if the garden has a way out for this visitor.
            // (The gateway form serves the simulated sites; the real web is fetched for proxy requests.)
            if target.form == .absolute, gateway == nil, let wayOut, wayOut.letsOut(visitorClass) { return .fetch(facts) }
            return .unknownHost
        }
        guard head.method == .get || isHEAD else {
            return .refuse(
                .methodNotAllowed, reason: "\(head.method) is not allowed; the garden only serves pages", extraHeaders: "Allow: GET, HEAD\r\n"
            )
        }
        switch resolution ?? content.resolve(path) {
        case .file(let file):
            guard file.isHTML else { return .file(file) }
            let portal = sites.registry.portalHost
            var rewrite = decision.effects.contains(where: \.isRewrite)
                ? sites.pageRewrite(decision: decision, facts: facts, policy: policy, pages: sites.pages, portalHost: portal) : nil
            if let gateway { rewrite = rewrite?.inGatewayForm(gateway) ?? PageRewrite(gateway: gateway, portalHost: portal) }
            if let rewrite { return .rewrittenFile(file, rewrite, path: path, facts: facts) }
            return .file(file)
        case .redirect(let location):
            return .moved(to: gateway?.location(location) ?? location)
        case .notFound(let page):
            return .missing(page)
        }
    }

    /// Whether `host` (from a proxy request's URL) is the garden's own address: one of
    /// its listeners' ports on `localhost`, a loopback address or this listener's
    /// address. Shown the portal, as when asked for without the proxy; never fetched
    /// through the way out (which would ask the garden of itself).
    func isGardenItself(_ host: HostName) -> Bool {
        let port = host.port ?? 80
        guard port == localPort || itself.isListener(port: port) else { return false }
        if host.name == "localhost" { return true }
        guard let asked = IPAddressRange.parseAddress(host.name) else { return false }
        let isLoopback = asked.count == 4 ? asked[0] == 127 : asked == [UInt8](repeating: 0, count: 15) + [1]
        return isLoopback || asked == localAddress
    }

    /// In teaching mode (`explain_blocks`), the `X-Garden-Rule` header and the note the
    /// censor's pages show: which rule decided, and why. Else nothing.
    static func teaching(_ decision: Decision, policy: Policy, visitorClass: String) -> (header: String, note: GardenPages.TeachersNote?) {
        guard policy.explainBlocks else { return ("", nil) }
        // Rule ids come from the config: keep only characters safe in a header.
        let safeID = String(decision.ruleID.unicodeScalars.map { scalar in
            scalar.properties.isAlphabetic && scalar.isASCII || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar)
                ? Character(scalar) : "_"
        })
        return ("X-Garden-Rule: \(safeID)\r\n", GardenPages.TeachersNote(rule: decision.ruleID, reason: decision.reason, visitorClass: visitorClass))
    }
}
