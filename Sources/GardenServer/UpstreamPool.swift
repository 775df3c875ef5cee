import NIOCore
import NIOPosix

/// The kept-alive connections to the real hosts of one event loop, by address (each
/// nginx worker keeps its own likewise): a fetch and its browser's connection share the
/// loop, so nothing is handed across threads. Used on its loop only (checked on each use;
/// hence `@unchecked Sendable`: it is made off the loop, with the garden).
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    /// Free connections by address, the most recently used last.
    private var idle: [SocketAddress: [UpstreamConnection]] = [:]
    /// Whether connections are kept after use (not for a loop outside the garden's group).
    private let keepsConnections: Bool
    private var closed = false

    /// Free connections kept per address, and how long one is kept unused.
    static let idleLimitPerAddress = 256
    static let idleTimeout = TimeAmount.seconds(30)

    init(eventLoop: any EventLoop, connectTimeout: TimeAmount, readTimeout: TimeAmount, keepsConnections: Bool = true) {
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.keepsConnections = keepsConnections
    }

    /// A free connection to `address`, or a new one made before `deadline`, handed to
    /// `then` on this loop with whether it served an earlier exchange.
    func connection(
        to address: SocketAddress, deadline: NIODeadline, fresh: Bool = false,
        then: @escaping (Result<(connection: UpstreamConnection, reused: Bool), any Error>) -> Void
    ) {
        eventLoop.preconditionInEventLoop()
        if !fresh {
            while let kept = idle[address]?.popLast() {
                if kept.isUsable { return then(.success((kept, true))) }
            }
        }
        let remaining = deadline - .now()
        guard remaining > .zero else { return then(.failure(ChannelError.connectTimeout(connectTimeout))) }
        let connection = UpstreamConnection(address: address, readTimeout: readTimeout, pool: self)
        // The channel is made on this loop: its initializer runs here.
        let bound = NIOLoopBound(connection, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(remaining)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(bound.value)
                }
            }
            .connect(to: address)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success: then(.success((connection, false)))
                case .failure(let error): then(.failure(error))
                }
            }
    }

    /// Takes back a connection whose exchange is over, to be reused or, unused for the
    /// idle timeout, closed.
    func release(_ connection: UpstreamConnection) {
        guard keepsConnections, !closed, idle[connection.address, default: []].count < Self.idleLimitPerAddress else {
            connection.abandon()
            return
        }
        idle[connection.address, default: []].append(connection)
        connection.becameIdle()
    }

    /// A connection closed: no longer offered.
    func forget(_ connection: UpstreamConnection) {
        guard var kept = idle[connection.address] else { return }
        kept.removeAll { $0 === connection }
        idle[connection.address] = kept.isEmpty ? nil : kept
    }

    /// Closes the free connections and keeps no more.
    func close() {
        closed = true
        let all = idle.values.flatMap { $0 }
        idle = [:]
        for connection in all { connection.abandon() }
    }
}
