#if canImport(Glibc)
import Glibc
#endif
import GardenPolicy
import NIOCore
import NIOPosix
import Synchronization

/// Connects an allowed tunnel to the real host: the name resolved off the event loop,
/// every address it resolves to put to the SSRF guard (so a name pointing at 127.0.0.1
/// is refused like the literal), then the allowed addresses tried in turn.
enum TunnelDialer {
    enum Failure: Error, CustomStringConvertible {
        case cannotResolve(String)
        case forbidden(host: String, address: String, reason: String)
        case cannotConnect(String, any Error)

        var description: String {
            switch self {
            case .cannotResolve(let host): "\(host) cannot be found (no address)"
            case let .forbidden(host, address, reason):
                "the garden does not connect to \(host): it resolves to \(address), \(reason)"
            case let .cannotConnect(host, error): "\(host) did not accept a connection (\(error))"
            }
        }
    }

    /// Resolves `host`, checks every address, connects to the first allowed one that
    /// answers; `initializer` sets up the new channel (the tunnel's other glue end).
    /// `connect_timeout` bounds the whole dial: every address tried shares it.
    static func connect(
        host: String, port: Int, settings: UpstreamSettings, itself: GardenItself, on eventLoop: any EventLoop,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        let deadline = NIODeadline.now() + TimeAmount(settings.connectTimeout)
        return guardedAddresses(host: host, port: port, settings: settings, itself: itself, on: eventLoop).flatMap { addresses in
            attempt(addresses[...], host: host, deadline: deadline, on: eventLoop, initializer: initializer, lastError: nil)
        }
    }

    /// The addresses of `host`, every one of them passed by the SSRF guard and none the
    /// garden itself; fails with `forbidden` if any is refused (DNS answers can change
    /// between lookups, so one forbidden address refuses the name) or cannot be read,
    /// or `cannotResolve` if there are none.
    static func guardedAddresses(
        host: String, port: Int, settings: UpstreamSettings, itself: GardenItself, on eventLoop: any EventLoop
    ) -> EventLoopFuture<[SocketAddress]> {
        resolve(host: host, port: port, on: eventLoop).flatMapThrowing { addresses in
            try guarded(addresses, host: host, port: port, settings: settings, itself: itself)
        }
    }

    /// `addresses` (of `host`), if the SSRF guard passes every one and none is the
    /// garden itself; else the failure `guardedAddresses` describes.
    static func guarded(
        _ addresses: [SocketAddress], host: String, port: Int, settings: UpstreamSettings, itself: GardenItself
    ) throws -> [SocketAddress] {
        guard !addresses.isEmpty else { throw Failure.cannotResolve(host) }
        for address in addresses {
            guard let bytes = GardenHTTPHandler.addressBytes(address) else {
                throw Failure.forbidden(host: host, address: "\(address)", reason: "an address the garden cannot read")
            }
            if let reason = itself.refusal(for: bytes, port: port) ?? settings.guardrail.refusal(for: bytes) {
                throw Failure.forbidden(host: host, address: address.ipAddress ?? "?", reason: reason)
            }
        }
        return addresses
    }

    private static func attempt(
        _ addresses: ArraySlice<SocketAddress>, host: String, deadline: NIODeadline, on eventLoop: any EventLoop,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>, lastError: (any Error)?
    ) -> EventLoopFuture<any Channel> {
        let remaining = deadline - .now()
        guard let address = addresses.first, remaining > .zero else {
            return eventLoop.makeFailedFuture(Failure.cannotConnect(host, lastError ?? ChannelError.connectTimeout(.zero)))
        }
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(remaining)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer(initializer)
            .connect(to: address)
            .flatMapError { error in
                attempt(addresses.dropFirst(), host: host, deadline: deadline, on: eventLoop, initializer: initializer, lastError: error)
            }
    }

    /// Answers of recent lookups, kept `cacheLifetime` (getaddrinfo gives no TTL), as
    /// Squid's ipcache does: a page's twenty images from one host cost one lookup, not
    /// twenty. Addresses from here are put to the SSRF guard like fresh ones.
    private static let cache = Mutex<[String: (addresses: [SocketAddress], expires: NIODeadline)]>([:])
    private static let cacheLifetime = TimeAmount.seconds(30)
    private static let cacheCapacity = 4096

    /// The addresses of `host` (an IP literal is its own), resolved on a thread pool.
    static func resolve(host: String, port: Int, on eventLoop: any EventLoop) -> EventLoopFuture<[SocketAddress]> {
        if let known = knownAddresses(host: host, port: port) { return eventLoop.makeSucceededFuture(known) }
        let key = "\(host):\(port)"
        return lookUp(host: host, port: port, on: eventLoop).map { addresses in
            if !addresses.isEmpty {
                let now = NIODeadline.now()
                cache.withLock { entries in
                    if entries.count >= cacheCapacity { entries = entries.filter { $0.value.expires > now } }
                    if entries.count < cacheCapacity { entries[key] = (addresses, now + cacheLifetime) }
                }
            }
            return addresses
        }
    }

    /// The addresses of `host` when they are known without a lookup: an IP literal's
    /// own, or a recent lookup's answer. (A fetch then goes on at once, with no future
    /// between the request and its connection.)
    static func knownAddresses(host: String, port: Int) -> [SocketAddress]? {
        let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let address = try? SocketAddress(ipAddress: literal, port: port) { return [address] }
        let key = "\(host):\(port)"
        if let known = cache.withLock({ $0[key] }), known.expires > .now() { return known.addresses }
        return nil
    }

    private static func lookUp(host: String, port: Int, on eventLoop: any EventLoop) -> EventLoopFuture<[SocketAddress]> {
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            var results: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else { return [] }
            defer { freeaddrinfo(first) }
            var addresses: [SocketAddress] = []
            var current: UnsafeMutablePointer<addrinfo>? = first
            while let entry = current {
                if let pointer = entry.pointee.ai_addr {
                    switch Int32(pointer.pointee.sa_family) {
                    case AF_INET:
                        let ipv4 = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                        addresses.append(SocketAddress(ipv4, host: host))
                    case AF_INET6:
                        let ipv6 = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                        addresses.append(SocketAddress(ipv6, host: host))
                    default:
                        break
                    }
                }
                current = entry.pointee.ai_next
            }
            return addresses
        }
    }
}
