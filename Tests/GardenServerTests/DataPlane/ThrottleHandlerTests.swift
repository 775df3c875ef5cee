@testable import GardenServer
import NIOCore
import NIOEmbedded
import Testing

/// The throttle's queue when its connection goes away: whatever waits in it is settled.
@Suite struct ThrottleHandlerTests {
    /// A throttled answer is queued with its end (`Connection: close`: a half-close behind
    /// the bytes), and the student leaves before it is sent. The half-close's promise must
    /// fail: one never completed leaks whatever waits on it, and a debug build (`swift run`)
    /// traps when it is freed.
    @Test(arguments: [false, true])
    func aHalfCloseWaitingBehindAThrottledAnswerFailsWhenTheConnectionGoes(byRemoval: Bool) throws {
        let throttle = ThrottleHandler()
        let channel = EmbeddedChannel(handler: throttle)
        defer { _ = try? channel.finish() }
        throttle.nextPace = .init(bytesPerSecond: 1024, latency: nil, startsAnswer: true)
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.write(ByteBuffer(repeating: 0x61, count: 64 * 1024), promise: written)
        channel.flush()
        let halfClosed = channel.eventLoop.makePromise(of: Void.self)
        channel.close(mode: .output, promise: halfClosed)
        #expect(throttle.queuedBytes > 0, "the answer is still being paced")

        if byRemoval {
            try channel.pipeline.syncOperations.removeHandler(throttle).wait()
        } else {
            channel.pipeline.fireChannelInactive()
        }
        channel.embeddedEventLoop.run()
        #expect(Self.failure(of: halfClosed) == .ioOnClosedChannel)
        #expect(Self.failure(of: written) == .ioOnClosedChannel)
        #expect(throttle.queuedBytes == 0)
        // Settled one way or another, so that the test itself leaks nothing either.
        halfClosed.succeed()
        written.succeed()
    }

    /// How `promise` failed, if it has been completed with a channel error.
    static func failure(of promise: EventLoopPromise<Void>) -> ChannelError? {
        // nonisolated(unsafe): set and read on this thread; the embedded loop runs callbacks at once.
        nonisolated(unsafe) var error: ChannelError?
        promise.futureResult.whenFailure { error = $0 as? ChannelError }
        return error
    }
}
