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

/// The connection's clocks: a request must arrive whole within `requestTimeout` of its first
/// byte (else 408), an idle connection closes after `idleTimeout`, and an answer that the
/// client stops reading for as long is dropped.
extension GardenHTTPHandler {
    func startClock() {
        guard clockTick == nil else { return }
        idleSince = .now()
        let shortest = min(garden.limits.requestTimeout, garden.limits.idleTimeout)
        let interval = TimeAmount(min(max(shortest / 4, .milliseconds(10)), .seconds(1)))
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        clockTick = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            loopBoundSelf.value.checkClocks()
        }
    }

    func checkClocks() {
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

    func requestTimedOut() {
        requestBody = nil  // a body that did not arrive in time is not sent on
        startEvent(method: "-", url: "-", host: "-")
        garden.logger.debug("request timed out", metadata: ["client": "\(context.remoteAddress?.description ?? "?")"])
        sendError(.requestTimeout, reason: "the request did not arrive in time", isHEAD: false, close: true)
        context.flush()
    }
}
