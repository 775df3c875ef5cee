import GardenPolicy
import NIOCore

/// Carries out the `throttle` effect on one connection: answers leave at no more than
/// the rule's bytes per second (a token bucket), and a throttled answer's first byte
/// waits the rule's latency — as Russia slowed Twitter in 2021.
///
/// It sits in front of the connection's `GardenHTTPHandler`, put there the first time a
/// throttled answer is written, and queues what passes through it in order: each write
/// carries the pace of the answer it belongs to, so an unthrottled answer pipelined
/// behind a throttled one waits its turn and then goes at full speed. Bytes are handed
/// on only while the socket takes them (back-pressure: a client that reads slowly is
/// not buffered for), and timers, never sleeps, wait for the bucket to refill.
final class ThrottleHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How one queued write is to be sent.
    struct Pace: Equatable {
        var bytesPerSecond: Int?
        var latency: Duration?
        /// The first write of an answer: its latency is waited before it.
        var startsAnswer = false
    }

    private struct Pending {
        var buffer: ByteBuffer
        var promise: EventLoopPromise<Void>?
        var pace: Pace
    }

    /// The pace given to writes from now on (nil: full speed).
    var nextPace: Pace?
    private var queue = CircularBuffer<Pending>()
    /// Bytes the bucket holds now, refilled at the head write's rate.
    private var tokens = 0.0
    private var refilled = NIODeadline.now()
    private var timer: Scheduled<Void>?
    /// A latency being waited: no byte leaves before this.
    private var heldUntil: NIODeadline?
    private var flushRequested = false
    /// A half-close asked for while bytes still wait: done once they are sent.
    private var pendingClose: EventLoopPromise<Void>??

    /// Bytes waiting here to be sent (the connection's clocks count them as being sent).
    var queuedBytes: Int {
        queue.reduce(0) { $0 + $1.buffer.readableBytes }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // The end of the answers waits for the answers; a full close (drop, reset,
        // timeouts) does not.
        if mode == .output, !queue.isEmpty {
            pendingClose = .some(promise)
            return
        }
        context.close(mode: mode, promise: promise)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var pace = nextPace ?? Pace()
        if nextPace?.startsAnswer == true { nextPace?.startsAnswer = false }
        if pace.bytesPerSecond == nil, pace.latency == nil { pace.startsAnswer = false }
        if queue.isEmpty, pace.bytesPerSecond == nil, !pace.startsAnswer {
            // Nothing throttled is waiting: straight through.
            context.write(data, promise: promise)
            return
        }
        queue.append(Pending(buffer: unwrapOutboundIn(data), promise: promise, pace: pace))
    }

    func flush(context: ChannelHandlerContext) {
        if queue.isEmpty {
            context.flush()
        } else {
            flushRequested = true
            pump(context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failWhatWaits()
    }

    func channelInactive(context: ChannelHandlerContext) {
        failWhatWaits()
        context.fireChannelInactive()
    }

    /// The connection is gone: every write still queued, and a half-close waiting behind
    /// them, fail (a promise never completed is a leak, and a trap in debug builds).
    private func failWhatWaits() {
        timer?.cancel()
        timer = nil
        while let pending = queue.popFirst() { pending.promise?.fail(ChannelError.ioOnClosedChannel) }
        if let close = pendingClose {
            pendingClose = nil
            close?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    /// Sends what the bucket and the socket allow; sets a timer for the rest.
    private func pump(context: ChannelHandlerContext) {
        guard timer == nil, flushRequested else { return }
        var wrote = false
        defer { if wrote { context.flush() } }
        while !queue.isEmpty {
            let now = NIODeadline.now()
            if queue[queue.startIndex].pace.startsAnswer, let latency = queue[queue.startIndex].pace.latency {
                if heldUntil == nil { heldUntil = now + TimeAmount(latency) }
                if let until = heldUntil, now < until {
                    schedule(at: until, context: context)
                    return
                }
            }
            heldUntil = nil
            queue[queue.startIndex].pace.startsAnswer = false
            guard let rate = queue[queue.startIndex].pace.bytesPerSecond else {
                // Full speed: hand the whole write on.
                let pending = queue.removeFirst()
                context.write(wrapOutboundOut(pending.buffer), promise: pending.promise)
                wrote = true
                continue
            }
            guard context.channel.isWritable else { return }  // resumed by channelWritabilityChanged
            // Refill: at most a tenth of a second's worth waits in the bucket.
            let elapsed = Double((now - refilled).nanoseconds) / 1e9
            refilled = now
            let burst = max(Double(rate) / 10, 512)
            tokens = min(tokens + elapsed * Double(rate), burst)
            let wanted = queue[queue.startIndex].buffer.readableBytes
            if wanted == 0 {
                let pending = queue.removeFirst()
                context.write(wrapOutboundOut(pending.buffer), promise: pending.promise)
                wrote = true
                continue
            }
            let allowed = min(wanted, Int(tokens))
            if allowed < min(wanted, 512) {
                // Wait until a useful slice is in the bucket.
                let missing = Double(min(wanted, 512)) - tokens
                schedule(at: now + .nanoseconds(Int64(missing / Double(rate) * 1e9) + 1), context: context)
                return
            }
            tokens -= Double(allowed)
            if allowed == wanted {
                let pending = queue.removeFirst()
                context.write(wrapOutboundOut(pending.buffer), promise: pending.promise)
            } else {
                let slice = queue[queue.startIndex].buffer.readSlice(length: allowed)!
                context.write(wrapOutboundOut(slice), promise: nil)
            }
            wrote = true
        }
        flushRequested = false
        if let close = pendingClose {
            pendingClose = nil
            context.flush()
            wrote = false
            context.close(mode: .output, promise: close)
        }
    }

    private func schedule(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            handler.value.timer = nil
            handler.value.pump(context: bound.value)
        }
    }
}
