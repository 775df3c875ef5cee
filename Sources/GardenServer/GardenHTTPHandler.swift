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
    let parser: RequestHeadParser
    /// The class of this connection's visitor: the persona, else by client address, else the default.
    var visitorClass: String
    /// Plans each request's answer; told the connection's addresses once it is added.
    let planner: ExchangePlanner
    /// `X-Garden-Rule: ...` for the answer being written, in teaching mode; else empty.
    var teachingHeader = ""
    /// A `stall` decision holds the connection: the clocks leave it to the stall's timer.
    var stalling = false
    var context: ChannelHandlerContext!
    /// Checks the connection's clocks a few times per timeout. One repeating task per
    /// connection, instead of scheduling and cancelling timers on every request, keeps the
    /// event loop's timer heap out of the per-request cost.
    var clockTick: RepeatedTask?
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
    var cachedDate: (second: Int, line: String) = (0, "")
    /// Reused for the heads of file answers (see `sendFile`).
    var headScratch = ByteBuffer()
    /// Bodies up to this size are copied behind the head into one buffer.
    static let inlineBodyLimit = 16 * 1024
    /// Response bytes still queued at the last clock tick, to tell a slow reader from a stuck one.
    var unsentAtLastTick = 0
    /// The listener's address and the client's, as the audit log names them.
    let listener: String
    var clientText = "-"
    /// The audit event of the request being answered; recorded when its answer is queued
    /// (or the connection cut), then cleared.
    var event: AuditRecord?
    /// When the request being answered was taken up (for the event's duration).
    var answerStarted: UInt64 = 0
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
    /// A request body being read before its request is acted on (sent to the real
    /// network, or a sign-in form).
    var requestBody: BodyCollection?
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

    /// - Parameter tunnelledSite: set for the handler at a simulated site's end of a
    ///   tunnel (behind the TLS handler), which answers for that site only.
    init(
        garden: GardenContext, sites: LoopLocalSites, persona: String?, listener: String, ticket: ConnectionLimiter.Ticket? = nil,
        tunnelledSite: TunnelledSite? = nil
    ) {
        self.garden = garden
        self.ticket = ticket
        self.listener = listener
        self.sites = sites
        self.visitorClass = tunnelledSite?.visitorClass ?? persona ?? ""
        let credentials = garden.credentials
        self.planner = ExchangePlanner(
            persona: persona, tunnelPorts: garden.tunnelPorts, wayOut: garden.upstream?.settings, itself: garden.itself,
            rememberedVerdict: { credentials.rememberedVerdict($0, policy: $1) }, lab: garden.lab, students: garden.students,
            tunnelledSite: tunnelledSite
        )
        self.parser = RequestHeadParser(maxURIBytes: garden.limits.maxURIBytes, maxHeaderBytes: garden.limits.maxHeaderBytes)
        garden.liveHandlers.add(1, ordering: .relaxed)
    }

    deinit {
        garden.liveHandlers.subtract(1, ordering: .relaxed)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        planner.connected(
            client: context.channel.remoteAddress.flatMap(Self.addressBytes), local: context.channel.localAddress.flatMap(Self.addressBytes),
            localPort: context.channel.localAddress?.port
        )
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
        guard !closing || requestBody != nil else { return }
        var buffer = unwrapInboundIn(data)
        ticket?.markBusy()
        if var earlier = pending {
            pending = nil
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        if requestBody != nil {
            takeRequestBody(from: &buffer)
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
            // Consumed: the head moves out of the outcome instead of being copied (a retain
            // and a release per string field).
            switch consume outcome {
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
                if requestBody != nil {
                    // Its body follows the head; the request goes out once it is whole.
                    takeRequestBody(from: &buffer)
                    if requestBody != nil { return }
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

    func refuse(_ refusal: RequestHeadParser.Refusal) {
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
}
