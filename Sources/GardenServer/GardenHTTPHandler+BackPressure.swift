import NIOCore

/// A connection's back-pressure and idleness: a client that sends requests faster than
/// it reads the answers is not read until they drain (`unsentHighWater`,
/// `unsentLowWater`), and a connection that only waits for a request tells its slot so,
/// for a full garden to close it first (`ConnectionLimiter`).
extension GardenHTTPHandler {
    /// Answer bytes not yet taken by the client's socket: queued in the channel, or held
    /// back by a throttle.
    var unsentBytes: Int {
        ((try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0) + (throttle?.queuedBytes ?? 0)
    }

    /// Whether the connection only waits for a request: nothing being received, answered,
    /// fetched, checked or sent. Such a connection may be closed to make room for another.
    var isIdle: Bool {
        isWaitingForRequest && unsentBytes == 0
    }

    /// `isIdle` but for answers still being sent: cheap enough for every read (the unsent
    /// bytes are a channel option, read through a chain of casts). The eviction checks
    /// `isIdle` itself before it closes anything.
    var isWaitingForRequest: Bool {
        requestStarted == nil && pending == nil && !stalling && !awaitingCredentialCheck && !awaitingTunnel
            && !awaitingUpstream && requestBody == nil && !backedUp
    }

    // MARK: - Back-pressure

    /// Stops answering and reading: `rest` (the requests not yet answered) waits.
    func holdBackForUnreadAnswers(keeping rest: ByteBuffer) {
        backedUp = true
        if rest.readableBytes > 0 { pending = rest }
        if !readingPaused {
            readingPaused = true
            context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
        }
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    /// The client has read its answers down to the low-water mark: the requests that
    /// waited are answered and reading goes on.
    func resumeAfterUnreadAnswers() {
        backedUp = false
        continueWithPending()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if backedUp, context.channel.isWritable, unsentBytes <= Self.unsentLowWater {
            resumeAfterUnreadAnswers()
        }
        context.fireChannelWritabilityChanged()
    }
}
