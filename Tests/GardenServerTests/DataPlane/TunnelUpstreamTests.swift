import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import NIOCore
import NIOPosix
import Testing

/// Tunnels opened to a real (loopback) upstream: bytes carried both ways, the TLS
/// ClientHello's server name (SNI) put to the censor — `CONNECT allowed` carrying SNI
/// `blocked` is reset — and the SSRF guard refusing loopback unless allowed.
@Suite(.stopsWhatItStarts) struct TunnelUpstreamTests {
    /// A TCP echo server on loopback: the far end of the tunnel.
    final class Echo: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }
    }

    static func echoServer() async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    static let policyText = """
    classes: {citizen: Citizens.}
    default_class: citizen
    rules:
      - id: no-blocked
        reason: Blocked.
        hosts: [blocked.example]
        action: block
    default: allow
    """

    static func garden(echoPort: Int, allowLoopback: Bool = true, limits: ServerLimits = ServerLimits()) async throws -> TestGarden {
        let upstream = UpstreamSettings.directToLoopback(allowingLoopback: allowLoopback)
        return try await TestGarden(
            limits: limits, policy: try Policy.parse(.init(file: "policy.yaml", text: policyText)),
            auditLog: AuditLogSettings(path: "audit.jsonl"), tunnelPorts: [443, echoPort], upstream: upstream
        )
    }

    /// A TLS 1.2-framed ClientHello carrying `serverName` in its SNI extension.
    static func clientHello(serverName: String) -> [UInt8] {
        let name = Array(serverName.utf8)
        func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
        let serverNameList: [UInt8] = [0x00] + u16(name.count) + name
        let sni: [UInt8] = u16(0x0000) + u16(serverNameList.count + 2) + u16(serverNameList.count) + serverNameList
        var body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 0x42, count: 32) + [0x00]  // version, random, no session id
        body += u16(2) + [0x13, 0x01] + [0x01, 0x00]  // one cipher suite, no compression
        body += u16(sni.count) + sni
        let handshake: [UInt8] = [0x01, 0x00] + u16(body.count) + body
        return [0x16, 0x03, 0x01] + u16(handshake.count) + handshake
    }

    /// CONNECT, then (after the 200) `payload`; what comes back, and whether the peer reset or closed.
    static func tunnel(
        _ authority: String, payload: [UInt8], garden: TestGarden
    ) async throws -> (text: String, echoed: [UInt8], ending: RawConnection.Ending) {
        try await RawConnection.offPool {
            let connection = try RawConnection(port: garden.port, timeout: 5)
            connection.send(Array("CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n\r\n".utf8))
            let head = connection.receive { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
            let text = String(decoding: head.bytes, as: UTF8.self)
            guard text.hasPrefix("HTTP/1.1 200") else { return (text, [], connection.lastEnding) }
            connection.send(payload)
            let back = connection.receive { $0.count >= payload.count }
            return (text, back.bytes, connection.lastEnding)
        }
    }

    @Test func bytesGoThroughBothWays() async throws {
        let echo = try await Self.echoServer()
        let port = try #require(echo.localAddress?.port)
        let garden = try await Self.garden(echoPort: port)
        defer { afterTest { await garden.stop(); try? await echo.close() } }
        let payload = Array("hello through the wall".utf8)
        let result = try await Self.tunnel("127.0.0.1:\(port)", payload: payload, garden: garden)
        #expect(result.text == "HTTP/1.1 200 Connection Established\r\n\r\n")
        #expect(result.echoed == payload)
        await garden.server.audit.flush()
        let event = try #require(try AuditLogTests.events(in: garden.auditLogPath ?? "").first)
        #expect(event.method == "CONNECT" && event.status == 200 && event.action == "allow")
    }

    @Test func anAllowedServerNameGoesThrough() async throws {
        let echo = try await Self.echoServer()
        let port = try #require(echo.localAddress?.port)
        let garden = try await Self.garden(echoPort: port)
        defer { afterTest { await garden.stop(); try? await echo.close() } }
        let hello = Self.clientHello(serverName: "allowed.example")
        let result = try await Self.tunnel("127.0.0.1:\(port)", payload: hello, garden: garden)
        #expect(result.echoed == hello)
    }

    @Test func aBlockedServerNameInsideAnAllowedTunnelIsReset() async throws {
        let echo = try await Self.echoServer()
        let port = try #require(echo.localAddress?.port)
        let garden = try await Self.garden(echoPort: port)
        defer { afterTest { await garden.stop(); try? await echo.close() } }
        let result = try await Self.tunnel("127.0.0.1:\(port)", payload: Self.clientHello(serverName: "Blocked.Example"), garden: garden)
        #expect(result.text.hasPrefix("HTTP/1.1 200"))
        #expect(result.echoed.isEmpty)
        // Torn down with a reset (RST), as the Great Firewall does, not closed normally.
        #expect(result.ending == .reset)
        await garden.server.audit.flush()
        let events = try AuditLogTests.events(in: garden.auditLogPath ?? "")
        let caught = try #require(events.first { $0.action == "reset" })
        #expect(caught.rule == "no-blocked")
        #expect(caught.url == "127.0.0.1:\(port) (SNI blocked.example)")
    }

    @Test func anIdleTunnelIsClosed() async throws {
        let echo = try await Self.echoServer()
        let port = try #require(echo.localAddress?.port)
        var limits = ServerLimits()
        // Long enough that a loaded machine's pause between two lines of the client is not
        // taken for idleness (at 300 ms it was, and at 1 s, with the whole suite running).
        limits.idleTimeout = .seconds(3)
        let garden = try await Self.garden(echoPort: port, limits: limits)
        defer { afterTest { await garden.stop(); try? await echo.close() } }
        let gardenPort = garden.port
        let (echoed, closedAfter) = try await RawConnection.offPool { () -> ([UInt8], Double) in
            let connection = try RawConnection(port: gardenPort, timeout: 15)
            connection.send(Array("CONNECT 127.0.0.1:\(port) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
            _ = connection.receive { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
            // (At least a TLS record header's 5 bytes: the SNI check waits for that many.)
            connection.send(Array("ping the far end".utf8))
            let back = connection.receive { $0.count >= 16 }
            // Then silence: the garden closes the tunnel after the idle timeout.
            let start = ContinuousClock.now
            let rest = connection.receive()
            let elapsed = ContinuousClock.now - start
            #expect(rest.closedByPeer)
            return (back.bytes, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        #expect(echoed == Array("ping the far end".utf8))
        #expect(closedAfter >= 2.5 && closedAfter < 15, "closed after \(closedAfter) s")
    }

    /// Fewer bytes than a TLS record header, then silence: the server-name check does not
    /// wait for ever; the tunnel is closed after the request timeout.
    @Test func aTunnelThatNeverNamesItsServerIsClosed() async throws {
        let echo = try await Self.echoServer()
        let port = try #require(echo.localAddress?.port)
        var limits = ServerLimits()
        limits.requestTimeout = .milliseconds(300)
        let garden = try await Self.garden(echoPort: port, limits: limits)
        defer { afterTest { await garden.stop(); try? await echo.close() } }
        let gardenPort = garden.port
        let (closed, seconds) = try await RawConnection.offPool { () -> (Bool, Double) in
            let connection = try RawConnection(port: gardenPort, timeout: 5)
            connection.send(Array("CONNECT 127.0.0.1:\(port) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
            _ = connection.receive { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
            let start = ContinuousClock.now
            connection.send([0x16, 0x03, 0x01])
            let rest = connection.receive()
            let elapsed = ContinuousClock.now - start
            return (rest.closedByPeer, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        #expect(closed)
        #expect(seconds >= 0.2 && seconds < 2, "closed after \(seconds) s")
    }

    @Test func theGuardRefusesLoopbackUnlessAllowed() async throws {
        let echo = try await Self.echoServer()
        let port = try #require(echo.localAddress?.port)
        let garden = try await Self.garden(echoPort: port, allowLoopback: false)
        defer { afterTest { await garden.stop(); try? await echo.close() } }
        for authority in ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)"] {
            let response = try await garden.raw("CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n\r\n")
            #expect(response.status == 403, "\(authority)")
            #expect(response.bodyText.contains("a loopback address"), "\(authority): \(response.bodyText)")
        }
    }
}
