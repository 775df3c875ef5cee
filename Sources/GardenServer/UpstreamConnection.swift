import NIOCore

/// One kept-alive HTTP/1.1 connection to an address of a real host, on one event loop,
/// carrying one fetch at a time: the request goes out as the bytes `UpstreamRequest`
/// wrote, and the answer is read by `UpstreamResponseDecoder`. The handler is the
/// connection's whole pipeline (issue 16: SwiftNIO's HTTP/1 client codecs before it cost
/// more than the rest of the fetch's way through the garden).
///
/// Back-pressure: the answer's parts go to the fetch one at a time; while the browser has
/// not taken the last one (its future is pending), the parts decoded meanwhile wait here
/// and the socket is not read, so a slow browser holds the real host back. After the
/// answer's end the connection goes back to its pool if both sides keep it alive.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The address it is connected to: its pool's key.
    let address: SocketAddress
    private let readTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    private var fetch: UpstreamFetch?
    /// Whether the exchange going on is on a connection that had served an earlier one
    /// (which the host may have closed meanwhile: worth one retry on a new connection).
    private(set) var reused = false
    private var state = State.idle
    /// Both sides keep the connection alive after this exchange.
    private var keepAlive = true
    /// Reads the host's bytes into answers; `received` holds what it has not consumed yet.
    private var decoder = UpstreamResponseDecoder()
    private var received: ByteBuffer?
    /// The decoder has read the whole of the answer under way (its end may still wait).
    private var answerComplete = false
    /// Parts decoded while the fetch has not taken the previous one.
    private var waiting = CircularBuffer<UpstreamResponseDecoder.Part>()
    private var awaitingFetch = false
    private var readHeldBack = false
    /// When the host last sent something (or the exchange began, or the browser took a
    /// part); when the connection last went back to its pool.
    private var lastActivity = NIODeadline.now()
    private var idleSince = NIODeadline.now()
    /// Checks both clocks a few times per read timeout: one repeating task for the
    /// connection's life rather than a timer scheduled and cancelled per exchange.
    private var clock: RepeatedTask?
    /// Told when the connection is free again (`release`) or gone (`forget`).
    private weak var pool: UpstreamPool?

    enum State { case idle, waitingForHead, streaming, closed }

    /// Why an exchange failed: the connection's own failures, named for the fetch.
    enum Failure: Error, CustomStringConvertible {
        /// The host closed the connection before answering.
        case closedBeforeAnswer
        /// Nothing came from the host for the read timeout.
        case readTimedOut

        var description: String {
            switch self {
            case .closedBeforeAnswer: "the connection was closed before an answer"
            case .readTimedOut: "no answer within the read timeout"
            }
        }
    }

    init(address: SocketAddress, readTimeout: TimeAmount, pool: UpstreamPool) {
        self.address = address
        self.readTimeout = readTimeout
        self.pool = pool
    }

    var isUsable: Bool { state == .idle && context?.channel.isActive == true }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let interval: TimeAmount = max(min(.nanoseconds(readTimeout.nanoseconds / 4), .seconds(1)), .milliseconds(50))
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        clock = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in bound.value.tick() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock?.cancel()
        clock = nil
        self.context = nil
    }

    /// The read timeout of an exchange (not counting a browser slow to take its parts),
    /// and the idle timeout of a connection in the pool.
    private func tick() {
        let now = NIODeadline.now()
        switch state {
        case .waitingForHead, .streaming:
            if !awaitingFetch, now - lastActivity >= readTimeout { fail(Failure.readTimedOut) }
        case .idle:
            if now - idleSince >= UpstreamPool.idleTimeout { abandon() }
        case .closed:
            break
        }
    }

    /// Back in the pool from now.
    func becameIdle() {
        idleSince = .now()
    }

    /// The allocator of the connection's channel.
    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    /// Sends `head` (the request's bytes, request line to blank line) and `body` for
    /// `fetch`; the answer goes to it.
    func start(_ fetch: UpstreamFetch, head: ByteBuffer, isHEAD: Bool, body: ByteBuffer?, reused: Bool) {
        guard let context, state == .idle else {
            fetch.connectionFailed(Failure.closedBeforeAnswer, on: self)
            return
        }
        self.fetch = fetch
        self.reused = reused
        state = .waitingForHead
        // The garden's requests never ask the host to close (`Connection` is not passed on).
        keepAlive = true
        answerComplete = false
        decoder.expectAnswer(toHEAD: isHEAD)
        if let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(head), promise: nil)
            context.writeAndFlush(wrapOutboundOut(body), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        }
        lastActivity = .now()
    }

    /// The fetch no longer wants its answer (the browser went, or the answer was refused):
    /// the connection, mid-answer, cannot be reused.
    func abandon() {
        fetch = nil
        close()
    }

    private func close() {
        guard state != .closed else { return }
        state = .closed
        clock?.cancel()
        clock = nil
        waiting.removeAll()
        pool?.forget(self)
        context?.close(promise: nil)
    }

    // MARK: - The answer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        var bytes = unwrapInboundIn(data)
        if received == nil {
            received = bytes
        } else {
            received!.writeBuffer(&bytes)
        }
        decodeReceived()
    }

    /// Hands on every part the received bytes hold; what is left (part of a head or of
    /// a chunk's line) waits for the next read.
    private func decodeReceived() {
        guard var bytes = received else { return }
        received = nil
        do {
            while state != .closed, let part = try decoder.next(from: &bytes) {
                if case .end = part { answerComplete = true }
                if awaitingFetch {
                    waiting.append(part)
                } else {
                    deliver(part)
                }
            }
        } catch {
            return fail(error)
        }
        if bytes.readableBytes > 0, state != .closed {
            bytes.discardReadBytes()
            received = bytes
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        fetch?.readComplete()
        context.fireChannelReadComplete()
    }

    private func deliver(_ part: UpstreamResponseDecoder.Part) {
        guard let fetch, state == .waitingForHead || state == .streaming else {
            // An answer nobody asked for (or after an abandoned one): not reusable.
            if state != .closed { close() }
            return
        }
        switch part {
        case .head(let head):
            // (1xx answers, the host's business, were skipped by the decoder.)
            state = .streaming
            keepAlive = keepAlive && head.keepAlive
            waitFor(fetch.head(head))
        case .body(let part):
            waitFor(fetch.body(part))
        case .end:
            guard state == .streaming else { return }
            self.fetch = nil
            // Back in the pool before the fetch is told: the browser's next request,
            // answered at once, may take this very connection.
            if keepAlive, state == .streaming, context?.channel.isActive == true {
                state = .idle
                reused = true
                pool?.release(self)
            } else {
                close()
            }
            fetch.finished()
        }
    }

    /// Waits for the fetch to take a part before the next is given or read.
    private func waitFor(_ taken: EventLoopFuture<Void>) {
        awaitingFetch = true
        // The fetch's futures are of this loop (the browser's connection shares it).
        taken.assumeIsolated().whenComplete { [self] result in
            awaitingFetch = false
            lastActivity = .now()
            guard case .success = result else {
                // The browser is gone, or the answer refused: the fetch wants no more.
                fetch = nil
                close()
                return
            }
            while !awaitingFetch, let next = waiting.popFirst() {
                deliver(next)
            }
            if !awaitingFetch, readHeldBack, let context, state != .closed {
                readHeldBack = false
                context.read()
            }
        }
    }

    func read(context: ChannelHandlerContext) {
        if awaitingFetch || !waiting.isEmpty {
            readHeldBack = true
        } else {
            context.read()
        }
    }

    // MARK: - Failures

    func channelInactive(context: ChannelHandlerContext) {
        // An answer that lasts until the host closes ends now; one read whole, still
        // waiting for the browser to take its parts, goes on to its end.
        if let end = try? decoder.inputClosed() {
            answerComplete = true
            if awaitingFetch { waiting.append(end) } else { deliver(end) }
        }
        if state == .idle || !answerComplete {
            fail(Failure.closedBeforeAnswer)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
    }

    private func fail(_ error: any Error) {
        let failed = fetch
        fetch = nil
        close()
        failed?.connectionFailed(error, on: self)
    }
}
