#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import GardenPolicy
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// `https://` probes: as a browser asks a proxy for an https page. A `CONNECT` for the
/// host (or, with `connectTo`, for another: curl's `--connect-to`, so that the name in
/// `CONNECT` and the server name in the TLS handshake differ, as a censor reading SNI
/// sees it), then TLS with the URL's host as the server name, its certificate checked
/// against the garden's authority, then the GET. Where it ends — a refused `CONNECT`, a
/// reset at the `CONNECT` or in the handshake, or the page — is the observation.
extension Probe {
    /// GETs the `https://` `url` through the garden at `proxyHost:proxyPort`.
    ///
    /// - Parameters:
    ///   - authorityPEM: the certificate the sites' certificates must chain to (the
    ///     garden's `/garden-ca.pem`); nil: the system's trust store.
    /// Blocking: run it off any event loop.
    public static func fetchOverTLS(
        url: String, connectTo: String? = nil, proxyHost: String, proxyPort: Int, proxyAuthorization: String?, authorityPEM: [UInt8]?,
        timeout: Double
    ) -> Observation {
        let start = ContinuousClock.now
        func since() -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        func unreachable(_ why: String) -> Observation {
            Observation(ending: .unreachable(why), status: nil, headers: [], body: [], firstByte: nil, total: since())
        }
        guard case .success(let target) = RequestTarget.parse(method: "GET", uri: url, host: nil, requiresHost: false), target.isHTTPS else {
            return unreachable("'\(url)' is not an https:// address")
        }
        let serverName = target.host.name
        let tunnelHost = connectTo ?? serverName
        let authority = "\(tunnelHost.contains(":") ? "[\(tunnelHost)]" : tunnelHost):\(target.host.port ?? 443)"
        let collector = TLSProbeCollector()
        let channel: any Channel
        do {
            channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(Int64(timeout * 1000)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
                }
                .connect(host: proxyHost, port: proxyPort).wait()
        } catch {
            return unreachable("\(proxyHost):\(proxyPort): \(error)")
        }
        defer { channel.close(promise: nil) }
        var connect = "CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: walled-garden-probe\r\n"
        if let proxyAuthorization { connect += "Proxy-Authorization: \(proxyAuthorization)\r\n" }
        channel.writeAndFlush(ByteBuffer(string: connect + "\r\n"), promise: nil)
        let deadline = ContinuousClock.now + .seconds(timeout)
        // The proxy's answer to CONNECT: a refusal is the observation (its page, its status).
        let (head, headEnding) = collector.wait(until: { headEnd($0) != nil }, deadline: deadline)
        guard let end = headEnd(head), String(decoding: head.prefix(12), as: UTF8.self).hasPrefix("HTTP/1.1 200") else {
            let (received, ending) = headEnding == nil ? collector.wait(until: isWhole, deadline: deadline) : (head, headEnding)
            let (status, headers, body) = parse(received)
            return Observation(ending: ending ?? .answered, status: status, headers: headers, body: body, firstByte: nil, total: since())
        }
        collector.take(count: end + 4)
        // TLS, the URL's host as the server name.
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let authorityPEM {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(authorityPEM))
            }
            let context = try NIOSSLContext(configuration: configuration)
            try channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.wait()
        } catch {
            return unreachable("cannot start TLS: \(error)")
        }
        channel.writeAndFlush(ByteBuffer(string: request(for: url, direct: true, proxyAuthorization: nil)), promise: nil)
        let longDeadline = deadline + .seconds(timeout * 9)
        let (received, ending) = collector.wait(until: isWhole, deadline: longDeadline)
        let (status, headers, body) = parse(received)
        var seen = Observation(ending: ending ?? .answered, status: status, headers: headers, body: body, firstByte: collector.firstByteAt, total: since())
        seen.tunnelOpened = true
        return seen
    }

    /// The garden's certificate authority, from its own address (`/garden-ca.pem`); nil
    /// when it does not hand one out.
    public static func gardenAuthority(host: String, port: Int, timeout: Double) -> [UInt8]? {
        let seen = fetch(url: "http://\(host):\(port)/garden-ca.pem", proxyHost: host, proxyPort: port, proxyAuthorization: nil, timeout: timeout, direct: true)
        guard seen.status == 200, String(decoding: seen.body.prefix(27), as: UTF8.self) == "-----BEGIN CERTIFICATE-----" else { return nil }
        return seen.body
    }

    /// Whether `bytes` hold a whole answer: its length, or its last chunk.
    static func isWhole(_ bytes: [UInt8]) -> Bool {
        if let complete = completeLength(bytes) { return bytes.count >= complete }
        guard let end = headEnd(bytes), parse(Array(bytes[..<end])).1.contains(where: { $0.name.lowercased() == "transfer-encoding" }) else {
            return false
        }
        return bytes.suffix(5).elementsEqual("0\r\n\r\n".utf8)
    }
}

/// Collects what comes back on a probe's connection, for a blocking reader: the bytes
/// (after TLS, once it is on), and how the connection ended.
final class TLSProbeCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private struct State {
        var bytes: [UInt8] = []
        var ending: Probe.Observation.Ending?
        var firstByte: Double?
    }
    private let state = Mutex(State())
    private let signal = DispatchSemaphore(value: 0)
    private let started = ContinuousClock.now

    /// Seconds from the collector's start to the first byte after the last `take`.
    var firstByteAt: Double? { state.withLock { $0.firstByte } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let elapsed = ContinuousClock.now - started
        state.withLock { state in
            if state.firstByte == nil {
                state.firstByte = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
            state.bytes += buffer.readableBytesView
        }
        signal.signal()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.withLock { state in if state.ending == nil { state.ending = .closed } }
        signal.signal()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset shows as the socket's ECONNRESET, or, during the TLS handshake, as the
        // TLS layer's error about it.
        let isReset = (error as? IOError)?.errnoCode == ECONNRESET || "\(error)".lowercased().contains("reset")
        state.withLock { state in
            if state.ending == nil { state.ending = isReset ? .reset : .unreachable("\(error)") }
        }
        signal.signal()
        context.close(promise: nil)
    }

    /// Drops the first `count` bytes (the proxy's answer to CONNECT) and starts timing anew.
    func take(count: Int) {
        state.withLock { state in
            state.bytes.removeFirst(min(count, state.bytes.count))
            state.firstByte = nil
        }
    }

    /// Waits until `done` says the bytes are enough, the connection ends, or `deadline`
    /// passes (then the ending is `timedOut`); returns the bytes and the ending, if any.
    func wait(until done: ([UInt8]) -> Bool, deadline: ContinuousClock.Instant) -> ([UInt8], Probe.Observation.Ending?) {
        while true {
            let (bytes, ending) = state.withLock { ($0.bytes, $0.ending) }
            if done(bytes) { return (bytes, nil) }
            if let ending { return (bytes, ending) }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return (bytes, .timedOut) }
            let milliseconds = Int(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            _ = signal.wait(timeout: .now() + .milliseconds(max(1, milliseconds)))
        }
    }
}
