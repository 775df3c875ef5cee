#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// One fetch in progress; lives on its connection's event loop.
final class UpstreamFetch {
    private let request: UpstreamRequest
    private weak var receiver: (any UpstreamReceiver)?
    private let eventLoop: any EventLoop
    private var connection: UpstreamConnection?
    private var headReceived = false
    private var done = false
    /// Where the fetch is: the addresses left to try, the pool, the dial's deadline.
    private var addresses: ArraySlice<SocketAddress> = []
    private var pool: UpstreamPool?
    private var deadline = NIODeadline.now()
    private var retriedOnFreshConnection = false

    init(request: UpstreamRequest, receiver: any UpstreamReceiver, eventLoop: any EventLoop) {
        self.request = request
        self.receiver = receiver
        self.eventLoop = eventLoop
    }

    /// Stops the fetch (the browser went away); no more calls reach the receiver.
    func cancel() {
        done = true
        receiver = nil
        connection?.abandon()
        connection = nil
    }

    /// Tries the addresses in turn while connecting fails and the dial's time lasts.
    func attempt(_ addresses: ArraySlice<SocketAddress>, pool: UpstreamPool, deadline: NIODeadline, lastError: (any Error)?, fresh: Bool = false) {
        guard !done else { return }
        self.addresses = addresses
        self.pool = pool
        self.deadline = deadline
        guard let address = addresses.first, deadline > .now() else {
            let reason = lastError.map(Self.describe) ?? "no address answered in time"
            return fail(.unreachable("\(request.host) did not accept a connection (\(reason))"))
        }
        pool.connection(to: address, deadline: deadline, fresh: fresh) { [self] result in
            switch result {
            case .success(let (connection, reused)):
                guard !done else { return pool.release(connection) }
                self.connection = connection
                connection.start(
                    self, head: request.wireHead(allocator: connection.allocator), isHEAD: request.method == "HEAD",
                    body: request.body, reused: reused
                )
            case .failure(let error):
                attempt(addresses.dropFirst(), pool: pool, deadline: deadline, lastError: error)
            }
        }
    }

    func fail(_ failure: UpstreamClient.Failure) {
        guard !done else { return }
        done = true
        receiver?.upstreamFailed(failure)
    }

    func head(_ head: UpstreamResponseHead) -> EventLoopFuture<Void> {
        guard !done, let receiver else { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        headReceived = true
        return receiver.upstreamHead(head) ?? stopped()
    }

    func body(_ part: ByteBuffer) -> EventLoopFuture<Void> {
        guard !done, let receiver else { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        return receiver.upstreamBody(part) ?? stopped()
    }

    /// The receiver wants no more: nothing further reaches it.
    private func stopped() -> EventLoopFuture<Void> {
        done = true
        return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
    }

    func readComplete() {
        guard !done else { return }
        receiver?.upstreamReadComplete()
    }

    func finished() {
        connection = nil
        guard !done else { return }
        done = true
        receiver?.upstreamFinished()
    }

    /// The connection failed: before the answer, the request goes again on a new
    /// connection (once, when a kept-alive one had been closed by the host meanwhile,
    /// and the method may be repeated) or to the next address; after it, the answer is
    /// cut short.
    func connectionFailed(_ error: any Error, on failed: UpstreamConnection) {
        guard !done, connection === failed || connection == nil else { return }
        connection = nil
        if headReceived {
            done = true
            receiver?.upstreamBroken(error)
            return
        }
        guard let pool else { return fail(.unreachable("\(request.host) did not answer (\(Self.describe(error)))")) }
        if case UpstreamConnection.Failure.readTimedOut = error {
            return fail(.timedOut("\(request.host) did not answer within the read timeout"))
        }
        if failed.reused, !retriedOnFreshConnection, ["GET", "HEAD", "OPTIONS"].contains(request.method) {
            retriedOnFreshConnection = true
            return attempt(addresses, pool: pool, deadline: max(deadline, .now() + .seconds(1)), lastError: error, fresh: true)
        }
        if Self.isConnectFailure(error) {
            return attempt(addresses.dropFirst(), pool: pool, deadline: deadline, lastError: error)
        }
        fail(.unreachable("\(request.host) did not answer (\(Self.describe(error)))"))
    }

    /// A failure to reach the host at all: worth trying its next address.
    private static func isConnectFailure(_ error: any Error) -> Bool {
        if case UpstreamConnection.Failure.closedBeforeAnswer = error { return true }
        if error is NIOConnectionError { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError, [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ECONNRESET].contains(error.errnoCode) { return true }
        return false
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out" }
        if error is NIOConnectionError { return "connection refused or timed out" }
        return "\(error)"
    }
}
