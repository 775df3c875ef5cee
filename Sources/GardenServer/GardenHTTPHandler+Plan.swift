#if canImport(Glibc)
import GardenAudit
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GardenPolicy
import GardenRewrite
import GardenSites
import Logging
import NIOCore
import NIOExtras
import NIOTLS
import Synchronization

/// Carrying out a request's plan (`ExchangePlanner`): the answer written, or the work it
/// waits for started; and the censor's styles and rewritten pages.
extension GardenHTTPHandler {
    /// Plans the answer to `head` (`ExchangePlanner`) and carries the plan out.
    ///
    /// - Parameter checkedCredentials: the outcome of the password check this request
    ///   waited for, when it is being answered again after one (`resume`).
    func respond(to head: RequestHead, checkedCredentials: CredentialChecker.Verdict? = nil) {
        let isHEAD = head.method == .head
        answerRewritten = false
        // An origin-form target gets its host in the writer (`AuditRecord.complete`).
        let isOriginForm = head.target.utf8.first == UInt8(ascii: "/")
        startEvent(method: head.method.description, url: head.target, host: head.host ?? "-", originHost: isOriginForm ? head.host ?? "-" : nil)
        if let referer = head.referer { event?.event.referer = referer }
        if let userAgent = head.userAgent { event?.event.userAgent = userAgent }

        let policy = sites.policy
        let plan = planner.plan(head, sites: sites, policy: policy, checkedCredentials: checkedCredentials, now: Int64(time(nil)))
        if plan.closing { closing = true }
        teachingHeader = plan.teachingHeader
        answerThrottle = plan.throttle
        record(plan)
        carryOut(plan, policy: policy, head: head, isHEAD: isHEAD)
    }

    /// Writes what the plan found into the request's audit event.
    func record(_ plan: ExchangePlan) {
        if let visitorClass = plan.visitorClass { self.visitorClass = visitorClass }
        guard let record = event else { return }
        if let target = plan.target {
            record.event.host = target.host.name
            record.event.zone = plan.zone?.rawValue
        }
        // The garden's own pages are neither refused nor censored: the PAC file (setting a
        // browser up), the authority's certificate, the lab, the sign-in form. (One switch:
        // each `if case` on the answer copied it, a retain per payload, on every request.)
        switch plan.answer {
        case .proxyAutoConfig: record.event.action = "proxy-config"
        case .authorityCertificate: record.event.action = "certificate"
        case .lab: record.event.action = "lab"
        case .signIn(let step, _):
            record.event.action = step == .signOut ? "sign-out" : "sign-in"
            record.event.account = plan.account
        default: break
        }
        // The log shows the real address, not the gateway's path.
        if let gateway = plan.gateway {
            record.event.url = gateway.realAddress
            record.originHost = nil
        }
        guard let decision = plan.decision else { return }
        record.event.visitorClass = visitorClass
        record.event.account = plan.account
        record.event.rule = decision.ruleID
        record.event.action = decision.action.name
        record.event.decisionNanoseconds = plan.decisionNanoseconds
        if !decision.effects.isEmpty { record.event.effects = Self.appliedEffectNames(decision.effects) }
        if !decision.shadowMatches.isEmpty {
            record.event.shadow = decision.shadowMatches.map { AuditEvent.Shadow(rule: $0.ruleID, action: $0.action.name) }
        }
    }

    /// Carries out `plan`: writes its answer, or starts what the answer waits for (a
    /// password check, a tunnel, a fetch from the real host).
    func carryOut(_ plan: ExchangePlan, policy: Policy, head: RequestHead, isHEAD: Bool) {
        // Worked out only by the answers that name the host (not a file's: the hot path).
        var host: String { plan.target?.host.name ?? head.host ?? "" }
        var isProxyRequest: Bool { plan.gateway == nil && plan.target.map { $0.form == .absolute || $0.form == .authority } ?? false }
        switch plan.answer {
        case .file(let file):
            sendFile(file, head: head, isHEAD: isHEAD)
        case .refuse(let status, let reason, let extraHeaders):
            sendError(status, reason: reason, isHEAD: isHEAD, close: closing, extraHeaders: extraHeaders)
        case .proxyAutoConfig:
            sendProxyAutoConfig(head: head, isHEAD: isHEAD)
        case .authorityCertificate:
            sendAuthorityCertificate(isHEAD: isHEAD)
        case .lab(let query):
            sendLab(query: query, policy: policy, isHEAD: isHEAD)
        case .signIn(let step, let session):
            signIn(step, session: session, head: head, policy: policy, isHEAD: isHEAD)
        case .checkPassword(let credentials, let policy):
            checkCredentials(credentials, policy: policy, head: head)
        case .challenge(let problem, let note):
            challenge(host: host, policy: policy, proxy: isProxyRequest, isHEAD: isHEAD, problem: problem, teachersNote: note)
        case .censor(let note):
            guard let target = plan.target, let decision = plan.decision else { return sendUnknownHost(host, isHEAD: isHEAD, gateway: plan.gateway) }
            answerCensored(
                decision, target: target, policy: policy, note: note, isHEAD: isHEAD, isProxyRequest: isProxyRequest, gateway: plan.gateway
            )
        case .tunnel(let settings, let facts):
            guard let target = plan.target else { return sendUnknownHost(host, isHEAD: isHEAD) }
            openTunnel(to: target, facts: facts, policy: policy, settings: settings)
        case .siteTunnel(let facts):
            guard let target = plan.target, let decision = plan.decision else { return sendUnknownHost(host, isHEAD: isHEAD) }
            openSiteTunnel(to: target, facts: facts, decision: decision, policy: policy)
        case .fetch(let facts):
            guard let upstream = garden.upstream, let target = plan.target, let decision = plan.decision
            else { return sendUnknownHost(host, isHEAD: isHEAD) }
            forwardUpstream(head, target: target, isHEAD: isHEAD, upstream: upstream, decision: decision, facts: facts, policy: policy)
        case .unknownHost:
            sendUnknownHost(host, isHEAD: isHEAD, gateway: plan.gateway)
        case .rewrittenFile(let file, let rewrite, let path, let facts):
            answerRewritten = true
            sendFile(rewritten(file, rewrite: rewrite, path: path, facts: facts, policy: policy), head: head, isHEAD: isHEAD)
        case .moved(let location):
            sendPage(.movedPermanently, html: sites.pages.moved(to: location), isHEAD: isHEAD, extraHeaders: "Location: \(location)\r\n")
        case .missing(let page):
            if let page {
                sendBody(.notFound, headerLines: page.validatorLines, body: page.body, isHEAD: isHEAD)
            } else {
                sendPage(.notFound, html: sites.pages.missingPage, isHEAD: isHEAD)
            }
        }
    }

    /// Carries out the decision's censor style (block page, 451, drop, ...); false when
    /// the decision lets the request through, which is then answered by the caller. Sets
    /// the teaching header either way. (For a page from the real host, read whole before
    /// the censor decides; a request's own decision is planned by `ExchangePlanner`.)
    func carryOut(_ decision: Decision, target: RequestTarget, policy: Policy, isHEAD: Bool, isProxyRequest: Bool) -> Bool {
        let (header, note) = ExchangePlanner.teaching(decision, policy: policy, visitorClass: visitorClass)
        teachingHeader = header
        guard decision.action != .allow else { return false }
        answerCensored(decision, target: target, policy: policy, note: note, isHEAD: isHEAD, isProxyRequest: isProxyRequest)
        return true
    }

    /// The answer of a censor style other than `allow`.
    func answerCensored(
        _ decision: Decision, target: RequestTarget, policy: Policy, note: GardenPages.TeachersNote?, isHEAD: Bool, isProxyRequest: Bool,
        gateway: GatewayForm? = nil
    ) {
        let pages = sites.pages
        switch decision.action {
        case .allow:
            break  // answered by the caller (`carryOut` does not come here)
        case .block:
            let body = sites.renderedPage(Self.pageKey("blocked", target.host.name, note, gateway)) {
                Self.inGatewayForm($0.blocked(target.host.name, teachersNote: note), gateway)
            }
            return sendBody(.forbidden, headerLines: GardenPages.headerLines, body: body, isHEAD: isHEAD)
        case .unavailable:
            let real = "http://\(sites.registry.portalHost)/authority.html"
            let authority = gateway?.location(real) ?? real
            let body = sites.renderedPage(Self.pageKey("unavailable", target.host.name, note, gateway)) {
                Self.inGatewayForm($0.unavailable(target.host.name, authority: real, teachersNote: note), gateway)
            }
            return sendBody(
                .unavailableForLegalReasons, headerLines: GardenPages.headerLines + "Link: <\(authority)>; rel=\"blocked-by\"\r\n",
                body: body, isHEAD: isHEAD
            )
        case .notFound:
            // Exactly what an address that does not exist gets.
            return sendUnknownHost(target.host.name, isHEAD: isHEAD, gateway: gateway)
        case .redirect(let redirect):
            let location = gateway?.location(redirect) ?? redirect
            return sendPage(
                .found, html: Self.inGatewayForm(pages.moved(to: redirect, teachersNote: note), gateway), isHEAD: isHEAD,
                extraHeaders: "Location: \(location)\r\n"
            )
        case .drop:
            closing = true
            recordEvent(bytes: 0)
            context.close(promise: nil)
            return
        case .reset:
            closing = true
            recordEvent(bytes: 0)
            Self.reset(context.channel)
        case .authenticate:
            return challenge(host: target.host.name, policy: policy, proxy: isProxyRequest, isHEAD: isHEAD, problem: nil, teachersNote: note)
        case .stall(let duration):
            closing = true
            stalling = true
            recordEvent(bytes: 0)
            // Stalls are rare: a timer of their own ends them on time, whatever the clock tick.
            let channel = context.channel
            context.eventLoop.scheduleTask(in: TimeAmount(duration)) { channel.close(promise: nil) }
        }
    }

    // MARK: - Rewriting

    /// The page as the `rewrite` effects change it for this visitor: from the loop's
    /// cache, or rendered now and kept.
    func rewritten(_ file: StaticFile, rewrite: PageRewrite, path: RequestPath, facts: RequestFacts, policy: Policy) -> StaticFile {
        let key = RewriteCache.Key(
            host: facts.host, path: path.relativePath, etag: file.etag, policyGeneration: sites.policyGeneration,
            plan: rewrite.plan, viewer: rewrite.viewer, planHash: rewrite.planHash
        )
        if let cached = sites.rewrites.page(for: key) { return cached }
        let sites = self.sites
        let page = HTMLRewriter.rewrite(
            file.body.readableBytesView, plan: rewrite.plan,
            isReachable: PageRewrite.reachability(
                policy: policy, facts: facts, leavesGarden: garden.upstream?.settings.letsOut(facts.visitorClass) ?? false
            ) { sites.site(for: $0)?.zone }
        )
        let served = RewriteCache.file(from: page, original: file)
        sites.rewrites.store(served, for: key)
        return served
    }
}
