#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

/// One fetch in progress; lives on its connection's event loop.
final class UpstreamFetch {
    private let request: UpstreamRequest
    private weak var receiver: (any UpstreamReceiver)?
    private let eventLoop: any EventLoop
    private var task: HTTPClient.Task<Void>?
    private var headReceived = false
    private var done = false

    init(request: UpstreamRequest, receiver: any UpstreamReceiver, eventLoop: any EventLoop) {
        self.request = request
        self.receiver = receiver
        self.eventLoop = eventLoop
    }

    /// Stops the fetch (the browser went away); no more calls reach the receiver.
    func cancel() {
        done = true
        receiver = nil
        task?.cancel()
    }

    /// Tries the addresses in turn while connecting fails and the dial's time lasts.
    func attempt(_ addresses: ArraySlice<SocketAddress>, client: HTTPClient, deadline: NIODeadline, lastError: (any Error)?) {
        guard !done else { return }
        guard let address = addresses.first, let ip = address.ipAddress, deadline > .now() else {
            let reason = lastError.map(Self.describe) ?? "no address answered in time"
            return fail(.unreachable("\(request.host) did not accept a connection (\(reason))"))
        }
        let hostPart = address.protocol == .inet6 ? "[\(ip)]" : ip
        var headers = request.headers
        let named = request.host.contains(":") ? "[\(request.host)]" : request.host
        headers.replaceOrAdd(name: "Host", value: request.port == 80 ? named : "\(named):\(request.port)")
        let outgoing: HTTPClient.Request
        do {
            outgoing = try HTTPClient.Request(
                url: "http://\(hostPart):\(request.port)\(request.pathAndQuery)",
                method: HTTPMethod(rawValue: request.method),
                headers: headers,
                body: request.body.map { .byteBuffer($0) }
            )
        } catch {
            return fail(.unreachable("the request cannot be sent on (\(error))"))
        }
        let delegate = UpstreamResponseDelegate(fetch: NIOLoopBound(self, eventLoop: eventLoop))
        // `client` is this loop's own (see UpstreamClient), so the callbacks and the
        // connection share the loop. Requiring the loop instead (`.delegateAndChannel`)
        // would open and close a connection per fetch: AsyncHTTPClient does not pool such
        // "overflow" connections.
        let task = client.execute(request: outgoing, delegate: delegate, eventLoop: .delegate(on: eventLoop))
        self.task = task
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        task.futureResult.hop(to: eventLoop).whenFailure { error in
            let fetch = bound.value
            guard !fetch.done else { return }
            if fetch.headReceived {
                fetch.done = true
                fetch.receiver?.upstreamBroken(error)
            } else if Self.isConnectFailure(error) {
                fetch.attempt(addresses.dropFirst(), client: client, deadline: deadline, lastError: error)
            } else if Self.isTimeout(error) {
                fetch.fail(.timedOut("\(fetch.request.host) did not answer within the read timeout"))
            } else {
                fetch.fail(.unreachable("\(fetch.request.host) did not answer (\(Self.describe(error)))"))
            }
        }
    }

    func fail(_ failure: UpstreamClient.Failure) {
        guard !done else { return }
        done = true
        receiver?.upstreamFailed(failure)
    }

    func head(_ head: HTTPResponseHead) -> EventLoopFuture<Void> {
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

    func finished() {
        guard !done else { return }
        done = true
        receiver?.upstreamFinished()
    }

    /// A failure to reach the host at all: worth trying its next address.
    private static func isConnectFailure(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout || error == .remoteConnectionClosed { return true }
        if error is NIOConnectionError { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError, [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ECONNRESET].contains(error.errnoCode) { return true }
        return false
    }

    private static func isTimeout(_ error: any Error) -> Bool {
        guard let error = error as? HTTPClientError else { return false }
        return error == .readTimeout || error == .deadlineExceeded
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? HTTPClientError, error == .connectTimeout { return "timed out" }
        if error is NIOConnectionError { return "connection refused or timed out" }
        return "\(error)"
    }
}

/// AsyncHTTPClient's callbacks, handed to the fetch on its event loop.
private final class UpstreamResponseDelegate: HTTPClientResponseDelegate {
    typealias Response = Void
    private let fetch: NIOLoopBound<UpstreamFetch>

    init(fetch: NIOLoopBound<UpstreamFetch>) {
        self.fetch = fetch
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        fetch.value.head(head)
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        fetch.value.body(buffer)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        fetch.value.finished()
    }
}
