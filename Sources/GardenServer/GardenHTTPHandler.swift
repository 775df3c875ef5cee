#if canImport(Glibc)
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

/// Answers the HTTP/1.1 requests of one client connection from the in-memory sites.
///
/// It reads request heads straight from the socket's bytes (`RequestHeadParser`) and
/// writes response bytes itself: the head of a file response is precomputed
/// (`StaticFile.okHead`), so a request costs a dictionary lookup, one `Date` line and
/// two buffer writes. Every request is answered as soon as its head arrives, so
/// pipelined requests are answered in order without queueing.
///
/// It also owns the connection's clocks: a request must arrive whole within
/// `requestTimeout` of its first byte (else 408 and close), and an idle keep-alive
/// connection is closed after `idleTimeout`.
final class GardenHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let garden: GardenContext
    let sites: LoopLocalSites
    private let parser: RequestHeadParser
    /// The listener's persona, if it has one.
    private let persona: String?
    /// The class of this connection's visitor: the persona, else by client address, else the default.
    private var visitorClass: String
    /// The client's address bytes, for `clients` conditions.
    private var clientAddress: [UInt8]?
    /// `X-Garden-Rule: ...` for the answer being written, in teaching mode; else empty.
    var teachingHeader = ""
    /// A `stall` decision holds the connection: the clocks leave it to the stall's timer.
    var stalling = false
    var context: ChannelHandlerContext!
    /// Checks the connection's clocks a few times per timeout. One repeating task per
    /// connection, instead of scheduling and cancelling timers on every request, keeps the
    /// event loop's timer heap out of the per-request cost.
    private var clockTick: RepeatedTask?
    /// When the request being received sent its first byte; nil between requests.
    var requestStarted: NIODeadline?
    /// When the connection last finished a request (or opened); the idle clock's start.
    var idleSince = NIODeadline.now()
    /// Bytes of a request head that has not arrived whole yet.
    var pending: ByteBuffer?
    /// How far `pending` is known to hold no head end.
    var scannedBytes = 0
    /// Answer no more requests; close once the current answer is written.
    var closing = false
    var needsFlush = false
    private var cachedDate: (second: Int, line: String) = (0, "")
    /// Reused for the heads of file answers (see `sendFile`).
    private var headScratch = ByteBuffer()
    /// Bodies up to this size are copied behind the head into one buffer.
    private static let inlineBodyLimit = 16 * 1024
    /// Response bytes still queued at the last clock tick, to tell a slow reader from a stuck one.
    private var unsentAtLastTick = 0
    /// The listener's address and the client's, as the audit log names them.
    private let listener: String
    var clientText = "-"
    /// The audit event of the request being answered; recorded when its answer is queued
    /// (or the connection cut), then cleared.
    var event: AuditRecord?
    /// When the request being answered was taken up (for the event's duration).
    private var answerStarted: UInt64 = 0
    /// The status of the answer being written, for the event.
    var answerStatus = 0
    /// The answer being written is a rewritten page: only then does its audit event list
    /// the `rewrite` effect (a 404 page, a stylesheet or a page passed on unread is not).
    var answerRewritten = false
    /// The throttle of the answer being written (the `throttle` effect), if any.
    var answerThrottle: Throttle?
    /// Paces this connection's answers once one has been throttled.
    var throttle: ThrottleHandler?
    /// A request waits for its password to be checked off the event loop.
    var awaitingCredentialCheck = false
    /// A tunnel is being connected: what the client sends meanwhile waits for it.
    var awaitingTunnel = false
    /// Reading stopped while a password check is pending.
    var readingPaused = false
    /// The real-network fetch being answered (`upstream: direct`); what the client sends
    /// meanwhile waits for it.
    var upstreamFetch: UpstreamFetch?
    var awaitingUpstream: Bool { upstreamFetch != nil }
    /// A request body being read before its request goes out to the real network.
    var upstreamBody: UpstreamBodyCollection?
    /// How the real host's answer is being passed on, once its head has come.
    var upstreamAnswer: UpstreamAnswer?
    /// The page of the fetch being read whole for the censor, when it is one.
    var upstreamInspection: UpstreamInspection?
    /// The fetch answers a HEAD request / a browser speaking HTTP/1.x (x = this).
    var upstreamAnswerIsHEAD = false
    var upstreamClientMinorVersion = 1

    /// The connection's slot: told when the connection is idle, so that a full garden
    /// closes idle connections first.
    let ticket: ConnectionLimiter.Ticket?
    /// Answering stopped because the client does not read its answers: more than a
    /// high-water mark of them is unsent. Reading and answering go on below the low mark.
    var backedUp = false
    /// Unsent answer bytes above which a connection's further requests wait (nginx and
    /// NIO's pipelining handler stop reading likewise), and below which they go on: the
    /// channel's write-buffer water marks, and the same for what a throttle holds back.
    static let unsentHighWater = 256 * 1024
    static let unsentLowWater = 64 * 1024
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: unsentLowWater, high: unsentHighWater)

    init(garden: GardenContext, sites: LoopLocalSites, persona: String?, listener: String, ticket: ConnectionLimiter.Ticket? = nil) {
        self.garden = garden
        self.ticket = ticket
        self.listener = listener
        self.sites = sites
        self.persona = persona
        self.visitorClass = persona ?? ""
        self.parser = RequestHeadParser(maxURIBytes: garden.limits.maxURIBytes, maxHeaderBytes: garden.limits.maxHeaderBytes)
        garden.liveHandlers.add(1, ordering: .relaxed)
    }

    deinit {
        garden.liveHandlers.subtract(1, ordering: .relaxed)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress.flatMap(Self.addressBytes)
        clientText = context.channel.remoteAddress?.ipAddress ?? "-"

        if context.channel.isActive { startClock() }
    }

    /// The handler keeps its context for the clocks and the password checks; the two
    /// hold each other, so the link is cut here or every connection would stay in memory.
    func handlerRemoved(context: ChannelHandlerContext) {
        upstreamFetch?.cancel()
        upstreamFetch = nil
        clockTick?.cancel()
        clockTick = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        startClock()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        upstreamFetch?.cancel()
        upstreamFetch = nil
        clockTick?.cancel()
        clockTick = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After the last request only its body, if it is being collected, is read.
        guard !closing || upstreamBody != nil else { return }
        var buffer = unwrapInboundIn(data)
        ticket?.markBusy()
        if var earlier = pending {
            pending = nil
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        if upstreamBody != nil {
            takeUpstreamBody(from: &buffer)
            if buffer.readableBytes == 0 { return }
        }
        if awaitingCredentialCheck || awaitingTunnel || awaitingUpstream || backedUp {
            // The request before is waiting for its password check, its tunnel or its fetch,
            // or the client is not reading its answers: keep what follows, and stop reading
            // if a client piles up more than a request head's worth.
            pending = buffer
            if buffer.readableBytes > garden.limits.maxHeaderBytes + garden.limits.maxURIBytes {
                context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
                readingPaused = true
            }
            return
        }
        if requestStarted == nil { requestStarted = .now() }
        process(&buffer)
    }

    /// Answers every whole request head in `buffer`, in order; keeps the rest for later.
    func process(_ buffer: inout ByteBuffer) {
        while !closing, buffer.readableBytes > 0 {
            let outcome = buffer.withUnsafeReadableBytes { parser.parse($0, scanFrom: max(0, scannedBytes - 3)) }
            switch outcome {
            case .needMoreData:
                scannedBytes = buffer.readableBytes
                pending = buffer
                return
            case .refused(let refusal):
                refuse(refusal)
                return
            case .head(let head, let consumed):
                // With a way out, a proxy request keeps its head's bytes: fetched from the
                // real network, its other fields go on (a slice: no copy).
                let raw = garden.upstream != nil && head.target.utf8.first != UInt8(ascii: "/")
                    ? buffer.getSlice(at: buffer.readerIndex, length: consumed) : nil
                buffer.moveReaderIndex(forwardBy: consumed)
                scannedBytes = 0
                if let raw {
                    var proxied = head
                    proxied.raw = raw
                    respond(to: proxied)
                } else {
                    respond(to: head)
                }
                if upstreamBody != nil {
                    // Its body follows the head; the request goes out once it is whole.
                    takeUpstreamBody(from: &buffer)
                    if upstreamBody != nil { return }
                }
                if awaitingCredentialCheck || awaitingTunnel || awaitingUpstream {
                    // Answered when the check completes (`resume`) or the fetch ends, or the
                    // bytes belong to the tunnel being opened; either way they wait.
                    if buffer.readableBytes > 0 { pending = buffer }
                    return
                }
                // The request is complete (the garden reads no bodies): the idle clock starts,
                // unless the next request has begun in the same bytes.
                idleSince = .now()
                requestStarted = buffer.readableBytes > 0 ? idleSince : nil
                if !context.channel.isWritable || (throttle?.queuedBytes ?? 0) > Self.unsentHighWater {
                    // The client sends requests faster than it reads their answers (a
                    // pipelined flood): what it sent waits, and so does the socket, until
                    // the answers drain below the low-water mark.
                    holdBackForUnreadAnswers(keeping: buffer)
                    return
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        // Answered: waiting for the next request (a hint; see `isWaitingForRequest`).
        if let ticket, isWaitingForRequest { ticket.markIdle(since: idleSince) }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        garden.logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func refuse(_ refusal: RequestHeadParser.Refusal) {
        startEvent(method: "-", url: "-", host: "-")
        garden.logger.debug("bad request", metadata: ["refusal": "\(refusal)", "client": "\(context.remoteAddress?.description ?? "?")"])
        switch refusal {
        case .badRequest(let reason):
            sendError(.badRequest, reason: reason, isHEAD: false, close: true)
        case .uriTooLong:
            sendError(.uriTooLong, reason: "the request target is longer than \(garden.limits.maxURIBytes) bytes", isHEAD: false, close: true)
        case .headersTooLarge:
            sendError(.headersTooLarge, reason: "the header fields are larger than \(garden.limits.maxHeaderBytes) bytes", isHEAD: false, close: true)
        case .versionNotSupported:
            sendError(.versionNotSupported, reason: "only HTTP/1.0 and HTTP/1.1 are spoken here", isHEAD: false, close: true)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let eviction = event as? EvictIdleConnection {
            // The garden is full and this connection has waited longest for a request.
            // Either way it is not chosen again until it waits for a request anew: closed
            // (its slot is gone), or still sending an answer (its hint was early).
            ticket?.markBusy()
            if isIdle {
                context.close(promise: nil)
            } else {
                eviction.readmit()
            }
            return
        }
        if event is ChannelShouldQuiesceEvent {
            if awaitingUpstream {
                // A fetch in flight finishes its answer; the connection closes after it.
                closing = true
                return
            }
            // Graceful shutdown. Requests are answered within the read that completes
            // them, so what may be in flight is the sending of answers: close once every
            // queued byte is written (an empty write completes after all before it).
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Clocks

    private func startClock() {
        guard clockTick == nil else { return }
        idleSince = .now()
        let shortest = min(garden.limits.requestTimeout, garden.limits.idleTimeout)
        let interval = TimeAmount(min(max(shortest / 4, .milliseconds(10)), .seconds(1)))
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        clockTick = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            loopBoundSelf.value.checkClocks()
        }
    }

    private func checkClocks() {
        guard context != nil, context.channel.isActive else { return }
        let now = NIODeadline.now()
        if stalling { return }  // the stall's own timer closes the connection
        // A response still being sent is not idleness: a large file to a slow reader may
        // take minutes. Only a client that reads nothing for a whole idle timeout is dropped
        // (nginx's send_timeout).
        // Bytes a throttle holds back are being sent too, slowly.
        let unsent = unsentBytes
        if backedUp, unsent <= Self.unsentLowWater {
            // A throttle drains without a writability change: the clock notices.
            resumeAfterUnreadAnswers()
        }
        if unsent > 0 {
            ticket?.markBusy()  // still sending: not idle, whatever the last read said
            if unsent != unsentAtLastTick {
                unsentAtLastTick = unsent
                idleSince = now
            } else if now - idleSince >= TimeAmount(garden.limits.idleTimeout) {
                context.close(promise: nil)
            }
            return
        }
        unsentAtLastTick = 0
        if awaitingUpstream || awaitingCredentialCheck {
            // The fetch has clocks of its own (connect and read timeouts); a password check
            // waits for scrypt, which the garden runs at low priority and may queue.
            idleSince = now
            return
        }
        if let started = requestStarted {
            if now - started >= TimeAmount(garden.limits.requestTimeout), !closing {
                requestTimedOut()
            }
        } else if now - idleSince >= TimeAmount(garden.limits.idleTimeout) {
            context.close(promise: nil)
        } else if isWaitingForRequest {
            // (Nothing is unsent here: that case returned above.)
            ticket?.markIdle(since: idleSince)
        }
    }

    private func requestTimedOut() {
        upstreamBody = nil  // a body that did not arrive in time is not sent on
        startEvent(method: "-", url: "-", host: "-")
        garden.logger.debug("request timed out", metadata: ["client": "\(context.remoteAddress?.description ?? "?")"])
        sendError(.requestTimeout, reason: "the request did not arrive in time", isHEAD: false, close: true)
        context.flush()
    }

    // MARK: - Answering

    /// - Parameter checkedCredentials: the outcome of the password check this request
    ///   waited for, when it is being answered again after one (`resume`).
    func respond(to head: RequestHead, checkedCredentials: CredentialChecker.Verdict? = nil) {
        let isHEAD = head.method == .head
        teachingHeader = ""
        answerThrottle = nil
        answerRewritten = false
        // An origin-form target gets its host in the writer (`AuditRecord.complete`).
        let isOriginForm = head.target.utf8.first == UInt8(ascii: "/")
        startEvent(method: head.method.description, url: head.target, host: head.host ?? "-", originHost: isOriginForm ? head.host ?? "-" : nil)
        if let referer = head.referer { event?.event.referer = referer }
        if let userAgent = head.userAgent { event?.event.userAgent = userAgent }
        // A body we do not read would be taken for the next request: close after answering.
        if !head.keepsAlive || head.hasBody { closing = true }

        guard head.hostCount <= 1 else {
            return sendError(.badRequest, reason: "a request may carry only one Host header", isHEAD: isHEAD, close: true)
        }
        let target: RequestTarget
        switch RequestTarget.parse(
            method: head.method.description, uri: head.target, host: head.host, requiresHost: head.minorVersion >= 1
        ) {
        case .success(let parsed): target = parsed
        case .failure(let problem): return sendError(.badRequest, reason: problem.description, isHEAD: isHEAD, close: true)
        }
        if target.isHTTPS {
            // Never a silent downgrade: https goes through a tunnel or not at all.
            return sendError(
                .badRequest, reason: "the garden's proxy fetches http:// URLs only; a browser asks for https:// pages with CONNECT",
                isHEAD: isHEAD, close: closing
            )
        }

        let isTunnel = head.method == .connect
        if isTunnel {
            // A tunnel is the connection's last request; the censor decides on host and port.
            closing = true
            guard let port = target.host.port, garden.tunnelPorts.contains(port) else {
                return sendError(
                    .forbidden, reason: "tunnels go to ports \(garden.tunnelPorts.sorted().map(String.init).joined(separator: ", ")) only",
                    isHEAD: false, close: true
                )
            }
        }
        // The PAC file, at the garden's own address (not a site's).
        if target.form == .origin, head.method == .get || isHEAD, head.target == "/proxy.pac",
           target.host.isIPLiteral || target.host.name == "localhost" {
            return sendProxyAutoConfig(head: head, isHEAD: isHEAD)
        }

        let path: RequestPath
        switch RequestPath.parse(isTunnel ? "/" : target.pathAndQuery) {
        case .success(let parsed): path = parsed
        case .failure(let rejection): return sendError(.badRequest, reason: rejection.description, isHEAD: isHEAD, close: closing)
        }
        // A tunnel reaches a simulated site only by its name: `localhost` and addresses
        // are not the portal there, but destinations out of the garden.
        // Nor is a proxy request for an address or `localhost` when the garden has a way
        // out, unless it names the garden itself.
        let addressLeaves = target.form == .absolute && garden.upstream != nil
            && (target.host.isIPLiteral || target.host.name == "localhost") && !isGardenItself(target.host)
        let site = addressLeaves || (isTunnel && sites.registry.site(named: target.host.name) == nil) ? nil : sites.site(for: target.host)
        event?.event.host = target.host.name
        event?.event.zone = site?.zone.rawValue

        // The censor looks at every request before anything is served.
        // The class is found again per request: a reloaded policy may class addresses anew.
        let policy = sites.policy
        let isProxyRequest = target.form == .absolute || target.form == .authority
        var account: String?
        if !policy.accounts.isEmpty, let field = isProxyRequest ? head.proxyAuthorization : head.authorization {
            guard let credentials = BasicCredentials(fieldValue: field) else {
                return challenge(host: target.host.name, policy: policy, proxy: isProxyRequest, isHEAD: isHEAD, problem: "the credentials are not HTTP Basic")
            }
            switch checkedCredentials ?? garden.credentials.rememberedVerdict(credentials, policy: policy) {
            case .none:
                return checkCredentials(credentials, policy: policy, head: head)
            case .signedIn(let name):
                account = name
            case .rejected:
                return challenge(host: target.host.name, policy: policy, proxy: isProxyRequest, isHEAD: isHEAD, problem: "wrong name or password")
            case .busy:
                return sendError(
                    .serviceUnavailable, reason: "too many sign-ins at once; try again in a moment",
                    isHEAD: isHEAD, close: closing, extraHeaders: "Retry-After: 1\r\n"
                )
            }
        }
        visitorClass = policy.visitorClass(account: account, persona: persona, clientAddress: clientAddress).visitorClass
        var facts = RequestFacts(
            visitorClass: visitorClass, clientAddress: clientAddress, target: target, path: path,
            zone: site?.zone, method: head.method.description
        )
        // A tunnel's path is inside the encryption: unknown, so no `paths` rule can match.
        if isTunnel { facts.path = "" }
        facts.account = account
        facts.time = Int64(time(nil))
        // Content rules need the page before the decision; it is then resolved only once.
        var resolution: SiteContent.Resolution?
        if !policy.contentKeywords.isEmpty, let content = site?.content, head.method == .get || isHEAD {
            resolution = content.resolve(path)
            if case .file(let file) = resolution, file.contentType.hasPrefix("text/html") {
                facts.contentWords = sites.contentWords(in: file)
            }
        }
        let decisionStarted = NIODeadline.now().uptimeNanoseconds
        let decision = policy.decide(facts, tracing: false)
        let decisionNanoseconds = NIODeadline.now().uptimeNanoseconds &- decisionStarted
        for effect in decision.effects {
            if case .throttle(let settings) = effect { answerThrottle = settings }
        }
        if let record = event {
            record.event.visitorClass = visitorClass
            record.event.account = account
            record.event.rule = decision.ruleID
            record.event.action = decision.action.name
            record.event.decisionNanoseconds = Int(decisionNanoseconds)
            if !decision.effects.isEmpty { record.event.effects = Self.appliedEffectNames(decision.effects) }
            if !decision.shadowMatches.isEmpty {
                record.event.shadow = decision.shadowMatches.map { AuditEvent.Shadow(rule: $0.ruleID, action: $0.action.name) }
            }
        }
        if carryOut(decision, target: target, policy: policy, isHEAD: isHEAD, isProxyRequest: isProxyRequest) { return }
        let pages = sites.pages
        if isTunnel {
            if site == nil, let upstream = garden.upstream, upstream.settings.letsOut(visitorClass) {
                return openTunnel(to: target, facts: facts, policy: policy, settings: upstream.settings)
            }
            // Allowed, but there is nowhere to tunnel to: the simulated sites speak plain
            // http, and without an upstream the garden has no way out.
            return sendError(
                .badGateway,
                reason: "the censor lets \(target.host.name) through, but the garden cannot open a tunnel to it: "
                    + (site != nil
                        ? "its simulated sites speak plain http (try http://\(target.host.name)/)"
                        : garden.upstream != nil
                            ? "it has no way out to the real internet for \(visitorClass) visitors (upstream classes in garden.yaml)"
                            : "it has no way out to the real internet (upstream is off in garden.yaml)"),
                isHEAD: false, close: true
            )
        }
        guard let content = site?.content else {
            // Not a simulated site: the real network, if the garden has a way out for this visitor.
            if target.form == .absolute, let upstream = garden.upstream, upstream.settings.letsOut(visitorClass) {
                return forwardUpstream(head, target: target, isHEAD: isHEAD, upstream: upstream, decision: decision, facts: facts, policy: policy)
            }
            return sendUnknownHost(target.host.name, pages: pages, isHEAD: isHEAD)
        }
        guard head.method == .get || isHEAD else {
            return sendError(
                .methodNotAllowed, reason: "\(head.method) is not allowed; the garden only serves pages",
                isHEAD: false, close: closing, extraHeaders: "Allow: GET, HEAD\r\n"
            )
        }

        switch resolution ?? content.resolve(path) {
        case .file(let file):
            if decision.effects.contains(where: \.isRewrite),
               file.contentType.hasPrefix("text/html"),
               let rewrite = sites.pageRewrite(
                   decision: decision, facts: facts, policy: policy, pages: pages, portalHost: sites.registry.portalHost
               ) {
                answerRewritten = true
                return sendFile(rewritten(file, rewrite: rewrite, path: path, facts: facts, policy: policy), head: head, isHEAD: isHEAD)
            }
            sendFile(file, head: head, isHEAD: isHEAD)
        case .redirect(let location):
            sendPage(.movedPermanently, html: pages.moved(to: location), isHEAD: isHEAD, extraHeaders: "Location: \(location)\r\n")
        case .notFound(let page):
            if let page {
                sendBody(.notFound, headerLines: page.validatorLines, body: page.body, isHEAD: isHEAD)
            } else {
                sendPage(.notFound, html: pages.missingPage, isHEAD: isHEAD)
            }
        }
    }

    /// Whether `host` (from a proxy request's URL) is the garden's own address: one of
    /// its listeners' ports on `localhost`, a loopback address or this listener's
    /// address. Shown the portal, as when asked for without the proxy; never fetched
    /// through the way out (which would ask the garden of itself).
    private func isGardenItself(_ host: HostName) -> Bool {
        let port = host.port ?? 80
        guard port == context.channel.localAddress?.port || garden.itself.isListener(port: port) else { return false }
        if host.name == "localhost" { return true }
        guard let asked = IPAddressRange.parseAddress(host.name) else { return false }
        let own = context.channel.localAddress?.ipAddress.flatMap(IPAddressRange.parseAddress)
        let isLoopback = asked.count == 4 ? asked[0] == 127 : asked == [UInt8](repeating: 0, count: 15) + [1]
        return isLoopback || asked == own
    }

    /// Carries out the decision's censor style (block page, 451, drop, ...); false when
    /// the decision lets the request through, which is then answered by the caller. Sets
    /// the teaching header either way.
    func carryOut(_ decision: Decision, target: RequestTarget, policy: Policy, isHEAD: Bool, isProxyRequest: Bool) -> Bool {
        var note: GardenPages.TeachersNote?
        if policy.explainBlocks {
            // Rule ids come from the config: keep only characters safe in a header.
            let safeID = String(decision.ruleID.unicodeScalars.map { scalar in
                scalar.properties.isAlphabetic && scalar.isASCII || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar)
                    ? Character(scalar) : "_"
            })
            teachingHeader = "X-Garden-Rule: \(safeID)\r\n"
            note = GardenPages.TeachersNote(rule: decision.ruleID, reason: decision.reason, visitorClass: visitorClass)
        }
        guard decision.action != .allow else { return false }
        answerCensored(decision, target: target, policy: policy, note: note, isHEAD: isHEAD, isProxyRequest: isProxyRequest)
        return true
    }

    /// The answer of a censor style other than `allow`.
    private func answerCensored(
        _ decision: Decision, target: RequestTarget, policy: Policy, note: GardenPages.TeachersNote?, isHEAD: Bool, isProxyRequest: Bool
    ) {
        let pages = sites.pages
        switch decision.action {
        case .allow:
            break  // answered by the caller (`carryOut` does not come here)
        case .block:
            let body = sites.renderedPage(Self.pageKey("blocked", target.host.name, note)) { pages.blocked(target.host.name, teachersNote: note) }
            return sendBody(.forbidden, headerLines: GardenPages.headerLines, body: body, isHEAD: isHEAD)
        case .unavailable:
            let authority = "http://\(sites.registry.portalHost)/authority.html"
            let body = sites.renderedPage(Self.pageKey("unavailable", target.host.name, note)) {
                pages.unavailable(target.host.name, authority: authority, teachersNote: note)
            }
            return sendBody(
                .unavailableForLegalReasons, headerLines: GardenPages.headerLines + "Link: <\(authority)>; rel=\"blocked-by\"\r\n",
                body: body, isHEAD: isHEAD
            )
        case .notFound:
            // Exactly what an address that does not exist gets.
            return sendUnknownHost(target.host.name, pages: pages, isHEAD: isHEAD)
        case .redirect(let location):
            return sendPage(
                .found, html: pages.moved(to: location, teachersNote: note), isHEAD: isHEAD, extraHeaders: "Location: \(location)\r\n"
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
    private func rewritten(_ file: StaticFile, rewrite: PageRewrite, path: RequestPath, facts: RequestFacts, policy: Policy) -> StaticFile {
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

    // MARK: - Tunnels

    /// Connects an allowed CONNECT to the real host; answers 200 and joins the two
    /// connections once it answers — after the TLS ClientHello's server name (SNI) has
    /// been put to the censor too, so that `CONNECT allowed:443` carrying SNI `blocked`
    /// is caught, as the Great Firewall does.
    private func openTunnel(to target: RequestTarget, facts: RequestFacts, policy: Policy, settings: UpstreamSettings) {
        awaitingTunnel = true
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        // The upstream channel is made on this loop, so its end of the glue is used there only.
        let upstreamEnd = NIOLoopBound(upstreamGlue, eventLoop: eventLoop)
        TunnelDialer.connect(
            host: target.host.name, port: target.host.port ?? 443, settings: settings, itself: garden.itself, on: eventLoop
        ) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(upstreamEnd.value) }
        }.whenComplete { result in
            handler.value.tunnelDialled(result, clientGlue: clientGlue, target: target, facts: facts, policy: policy)
        }
    }

    private func tunnelDialled(
        _ result: Result<any Channel, any Error>, clientGlue: GlueHandler, target: RequestTarget, facts: RequestFacts, policy: Policy
    ) {
        awaitingTunnel = false
        guard context != nil, context.channel.isActive else {
            if case .success(let upstream) = result { upstream.close(promise: nil) }
            return
        }
        let upstream: any Channel
        switch result {
        case .failure(let failure):
            if case TunnelDialer.Failure.forbidden = failure {
                sendError(.forbidden, reason: "\(failure)", isHEAD: false, close: true)
            } else {
                sendError(.badGateway, reason: "\(failure)", isHEAD: false, close: true)
            }
            context.flush()
            return
        case .success(let channel):
            upstream = channel
        }
        // 200, then the client's bytes go through the SNI check, then the glue.
        var head = context.channel.allocator.buffer(capacity: 64)
        head.writeString("HTTP/1.1 200 Connection Established\r\n\r\n")
        recordEvent(bytes: head.readableBytes, status: 200)
        context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let client = context.channel
        // The name must show within the request timeout: a client that sends a few bytes
        // and waits would otherwise hold the check (and the tunnel) until the idle timeout.
        let named = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
        let sni = ByteToMessageHandler(SNIHandler { result in
            named.value = true
            return handler.value.checkServerName(result, target: target, facts: facts, policy: policy, client: client, upstream: upstream)
        })
        context.eventLoop.scheduleTask(in: TimeAmount(garden.limits.requestTimeout)) {
            guard !named.value, client.isActive else { return }
            upstream.close(promise: nil)
            client.close(promise: nil)
        }
        // A tunnel idle both ways for the idle timeout is closed, as a kept-alive
        // connection would be: it must not hold its connection slot for ever.
        let idle = IdleStateHandler(allTimeout: TimeAmount(garden.limits.idleTimeout))
        do {
            try context.pipeline.syncOperations.addHandler(idle, position: .after(self))
            try context.pipeline.syncOperations.addHandler(sni, position: .after(idle))
            try context.pipeline.syncOperations.addHandler(clientGlue, position: .after(sni))
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
            return
        }
        // Bytes that came with or after the CONNECT (the ClientHello, often) go on, then
        // this handler leaves the connection to the tunnel.
        if let rest = pending, rest.readableBytes > 0 {
            pending = nil
            context.fireChannelRead(NIOAny(rest))
            context.fireChannelReadComplete()
        }
        clockTick?.cancel()
        clockTick = nil
        if readingPaused {
            readingPaused = false
            context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The censor's second look: the server name the browser is really asking for.
    private func checkServerName(
        _ result: SNIResult, target: RequestTarget, facts: RequestFacts, policy: Policy, client: any Channel, upstream: any Channel
    ) -> EventLoopFuture<Void> {
        let eventLoop = upstream.eventLoop
        guard case .hostname(let name) = result, name.lowercased() != target.host.name else {
            return eventLoop.makeSucceededVoidFuture()
        }
        var named = facts
        named.host = name.lowercased()
        named.zone = sites.registry.site(named: named.host)?.zone
        let decision = policy.decide(named, tracing: false)
        guard decision.action != .allow else { return eventLoop.makeSucceededVoidFuture() }
        // Caught: the tunnel is torn down with a reset, as the Great Firewall does.
        let record = AuditRecord(AuditEvent(
            time: AuditTrail.nowMilliseconds(), listener: listener, client: clientText, visitorClass: facts.visitorClass,
            account: facts.account, method: "CONNECT", url: "\(target.host.name):\(target.host.port ?? 443) (SNI \(named.host))",
            host: named.host, zone: named.zone?.rawValue, rule: decision.ruleID, action: "reset", status: 0, bytes: 0
        ))
        garden.audit.record(record)
        // The browser's side first: closing the real host's side first would close the
        // browser's through the glue, normally (FIN), before the reset is set.
        Self.reset(client)
        upstream.close(promise: nil)
        return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
    }

    /// Closes `channel` with a TCP RST instead of a FIN (SO_LINGER with a zero timeout):
    /// the `reset` censor style, and a tunnel caught by its server name.
    private static func reset(_ channel: any Channel) {
        // (On the channel's loop the option is set at once, before the close.)
        if let socket = channel as? any SocketOptionProvider {
            socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }

    // MARK: - Accounts

    /// Checks a password off the event loop; the request is answered in `resume`.
    private func checkCredentials(_ credentials: BasicCredentials, policy: Policy, head: RequestHead) {
        awaitingCredentialCheck = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        garden.credentials.check(credentials, policy: policy, on: context.eventLoop).whenComplete { result in
            handler.value.resume(head, verdict: (try? result.get()) ?? .busy)
        }
    }

    /// Answers the request that waited for its password check, then those that came after it.
    private func resume(_ head: RequestHead, verdict: CredentialChecker.Verdict) {
        awaitingCredentialCheck = false
        guard context != nil, context.channel.isActive else { return }
        respond(to: head, checkedCredentials: verdict)
        continueWithPending()
    }

    /// Goes on with the bytes that waited for a password check or a fetch: the body of
    /// the request just answered first (if it is going out), then the requests behind it.
    func continueWithPending() {
        idleSince = .now()
        requestStarted = pending != nil ? idleSince : nil
        if var rest = pending, !closing {
            pending = nil
            if upstreamBody != nil { takeUpstreamBody(from: &rest) }
            if rest.readableBytes > 0 {
                if awaitingCredentialCheck || awaitingTunnel || awaitingUpstream || upstreamBody != nil {
                    pending = rest
                } else {
                    scannedBytes = 0
                    process(&rest)
                }
            }
        }
        if readingPaused, !awaitingCredentialCheck, !awaitingUpstream, !backedUp {
            readingPaused = false
            context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
            context.read()
        }
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    /// 401 with `WWW-Authenticate` (or 407 with `Proxy-Authenticate` through the proxy):
    /// the browser asks for a name and password.
    private func challenge(
        host: String, policy: Policy, proxy: Bool, isHEAD: Bool, problem: String?, teachersNote: GardenPages.TeachersNote? = nil
    ) {
        let field = proxy ? "Proxy-Authenticate" : "WWW-Authenticate"
        if let record = event, record.event.rule == nil { record.event.action = "authenticate" }
        sendPage(
            proxy ? .proxyAuthenticationRequired : .unauthorized,
            html: sites.pages.signIn(host: host, realm: policy.realm, problem: problem, teachersNote: teachersNote),
            isHEAD: isHEAD, extraHeaders: "\(field): Basic realm=\"\(policy.realm)\", charset=\"UTF-8\"\r\n"
        )
    }

    private func sendFile(_ file: StaticFile, head: RequestHead, isHEAD: Bool) {
        if Preconditions.isNotModified(ifNoneMatch: head.ifNoneMatch, ifModifiedSince: head.ifModifiedSince, file: file) {
            var buffer = startHead(.notModified, capacity: 512)
            buffer.writeString(file.validatorLines)
            finishHead(&buffer)
            return write(buffer, body: nil)
        }
        // Range is defined for GET only (RFC 9110 §14.2); HEAD gets the whole headers.
        if !isHEAD, let rangeHeader = head.range, Preconditions.rangeApplies(ifRange: head.ifRange, file: file) {
            switch ByteRange.resolve(rangeHeader, length: file.size) {
            case .whole:
                break
            case .partial(let range):
                var buffer = startHead(.partialContent, capacity: 512)
                buffer.writeString(file.validatorLines)
                buffer.writeString("Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)\r\n")
                buffer.writeString("Content-Length: \(range.count)\r\n")
                finishHead(&buffer)
                return write(buffer, body: file.body.getSlice(at: range.lowerBound, length: range.count))
            case .unsatisfiable:
                var buffer = startHead(.rangeNotSatisfiable, capacity: 256)
                buffer.writeString("Content-Range: bytes */\(file.size)\r\n")
                buffer.writeString(SecurityHeaders.lines)
                buffer.writeString("Content-Length: 0\r\n")
                finishHead(&buffer)
                return write(buffer, body: nil)
            }
        }
        // The head goes into the connection's reusable buffer: once the previous answer
        // is sent its storage is ours alone again, and `clear()` keeps it (copy-on-write
        // gives a fresh one when an answer is still queued, as with pipelining).
        headScratch.clear()
        answerStatus = 200
        headScratch.writeImmutableBuffer(file.okHead)
        finishHead(&headScratch)
        if !isHEAD, file.size <= Self.inlineBodyLimit {
            // Small bodies ride in the same buffer: one write instead of two.
            headScratch.writeImmutableBuffer(file.body)
            return write(headScratch, body: nil)
        }
        write(headScratch, body: isHEAD ? nil : file.body)
    }

    /// `/proxy.pac`: the garden's sites through this listener, the rest direct.
    private func sendProxyAutoConfig(head: RequestHead, isHEAD: Bool) {
        // The address the browser used, so its answer names a reachable proxy.
        let proxy = head.host ?? context.channel.localAddress.map { "\($0.ipAddress ?? "127.0.0.1"):\($0.port ?? 0)" } ?? "127.0.0.1:8080"
        let text = ProxyAutoConfig.file(proxy: proxy, registry: sites.registry, everything: garden.upstream != nil)
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        sendBody(
            .ok, headerLines: "Content-Type: application/x-ns-proxy-autoconfig\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n",
            body: body, isHEAD: isHEAD
        )
    }

    /// The in-world page of an address that does not exist (the `notfound` style too).
    private func sendUnknownHost(_ host: String, pages: GardenPages, isHEAD: Bool) {
        let body = sites.renderedPage(Self.pageKey("unknown", host, nil)) { pages.unknownHost(host) }
        sendBody(.notFound, headerLines: GardenPages.headerLines, body: body, isHEAD: isHEAD)
    }

    /// What a rendered censor page depends on: the page, the host, the teacher's note.
    private static func pageKey(_ page: String, _ host: String, _ note: GardenPages.TeachersNote?) -> String {
        guard let note else { return page + "\u{0}" + host }
        return page + "\u{0}" + host + "\u{0}" + note.rule + "\u{0}" + note.reason + "\u{0}" + note.visitorClass
    }

    /// A refusal: the error page with its reason, optionally closing the connection.
    func sendError(_ status: HTTPStatusLine, reason: String, isHEAD: Bool, close: Bool, extraHeaders: String = "") {
        if close { closing = true }
        sendPage(status, html: sites.pages.error(status: status, reason: reason), isHEAD: isHEAD, extraHeaders: extraHeaders)
    }

    func sendPage(_ status: HTTPStatusLine, html: String, isHEAD: Bool, extraHeaders: String = "") {
        var body = context.channel.allocator.buffer(capacity: html.utf8.count)
        body.writeString(html)
        sendBody(
            status,
            headerLines: GardenPages.headerLines + extraHeaders,
            body: body, isHEAD: isHEAD
        )
    }

    func sendBody(_ status: HTTPStatusLine, headerLines: String, body: ByteBuffer, isHEAD: Bool) {
        var buffer = startHead(status, capacity: 512 + headerLines.utf8.count)
        buffer.writeString(headerLines)
        buffer.writeString("Content-Length: \(body.readableBytes)\r\n")
        finishHead(&buffer)
        write(buffer, body: isHEAD ? nil : body)
    }

    private func startHead(_ status: HTTPStatusLine, capacity: Int) -> ByteBuffer {
        var buffer = context.channel.allocator.buffer(capacity: capacity)
        answerStatus = status.code
        buffer.writeString(status.line)
        buffer.writeString("Server: walled-garden\r\n")
        return buffer
    }

    /// Adds `Date`, connection handling and the blank line that ends the head.
    private func finishHead(_ buffer: inout ByteBuffer) {
        buffer.writeString(dateLine())
        if !teachingHeader.isEmpty { buffer.writeString(teachingHeader) }
        buffer.writeString(closing ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n")
    }

    func write(_ head: ByteBuffer, body: ByteBuffer?) {
        recordEvent(bytes: head.readableBytes + (body?.readableBytes ?? 0))
        if let settings = answerThrottle {
            paceNextAnswer(settings)
        }
        context.write(wrapOutboundOut(head), promise: nil)
        if let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(body), promise: nil)
        }
        throttle?.nextPace = nil
        if closing {
            endConnectionAfterAnswers()
        } else {
            needsFlush = true
        }
    }

    /// Half-closes once everything queued is sent, so the client reads the whole answer
    /// (a full close with unread request bytes would reset it); then releases the socket
    /// even if the client never closes its side.
    func endConnectionAfterAnswers() {
        let channel = context.channel
        context.flush()
        needsFlush = false
        let sent = channel.eventLoop.makePromise(of: Void.self)
        channel.close(mode: .output, promise: sent)
        sent.futureResult.whenComplete { _ in
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }

    /// Puts a `ThrottleHandler` in front of this one (once per connection) and tells it
    /// how to pace the answer about to be written.
    func paceNextAnswer(_ settings: Throttle) {
        if throttle == nil {
            let handler = ThrottleHandler()
            do {
                try context.pipeline.syncOperations.addHandler(handler, position: .before(self))
                throttle = handler
            } catch {
                garden.logger.debug("could not throttle a connection", metadata: ["error": "\(error)"])
                return
            }
        }
        throttle?.nextPace = ThrottleHandler.Pace(bytesPerSecond: settings.bytesPerSecond, latency: settings.latency, startsAnswer: true)
    }

    // MARK: - Audit

    /// Begins the audit event of a request (or of a refusal before one could be read).
    private func startEvent(method: String, url: String, host: String, originHost: String? = nil) {
        answerStarted = NIODeadline.now().uptimeNanoseconds
        event = AuditRecord(
            AuditEvent(
                time: AuditTrail.nowMilliseconds(), listener: listener, client: clientText, visitorClass: visitorClass,
                method: method, url: url, host: host, rule: nil, action: "refused", status: 0, bytes: 0
            ),
            originHost: originHost
        )
    }

    /// The names of the effects carried out, for the audit event. The common single
    /// effects answer without a new array.
    private static func appliedEffectNames(_ effects: [Effect]) -> [String] {
        if effects.count == 1 {
            switch effects[0] {
            case .monitor: return monitorOnly
            case .rewrite: return rewriteOnly
            case .throttle: return throttleOnly
            }
        }
        return effects.map(\.name)
    }
    private static let monitorOnly = ["monitor"]
    private static let rewriteOnly = ["rewrite"]
    private static let throttleOnly = ["throttle"]

    /// Hands the event of the answer being queued to the audit trail.
    func recordEvent(bytes: Int, status: Int? = nil) {
        guard let finished = event else { return }
        event = nil
        finished.event.status = status ?? answerStatus  // 0 when the connection was cut instead
        finished.event.bytes = bytes
        if !answerRewritten, finished.event.effects.contains("rewrite") {
            finished.event.effects.removeAll { $0 == "rewrite" }
        }
        finished.event.durationMicroseconds = Int((NIODeadline.now().uptimeNanoseconds &- answerStarted) / 1000)
        answerStatus = 0
        garden.audit.record(finished)
    }

    /// The bytes of a socket address, for `clients` conditions.
    private static func addressBytes(_ address: SocketAddress) -> [UInt8]? {
        address.ipAddress.flatMap(IPAddressRange.parseAddress)
    }

    /// `Date: ...\r\n`, formatted at most once a second per connection.
    func dateLine() -> String {
        let now = time(nil)
        if Int(now) != cachedDate.second {
            cachedDate = (Int(now), "Date: \(HTTPDate.format(Int(now)))\r\n")
        }
        return cachedDate.line
    }
}
