import Foundation
import GardenPolicy
import GardenServer
import Synchronization
import Testing

/// The way out never leads back into the garden, and never downgrades: the teacher's
/// desk is not reachable through the proxy whatever the SSRF guard's allow-list says, and
/// an `https://` URL sent to the proxy is refused rather than fetched over plain http.
@Suite(.stopsWhatItStarts) struct GardenItselfTests {
    static func garden(tunnelPorts: Set<Int> = [443]) async throws -> TestGarden {
        try await TestGarden(
            policy: try Policy.parse(.init(file: "policy.yaml", text: "classes: {citizen: C.}\ndefault_class: citizen\ndefault: allow")),
            tunnelPorts: tunnelPorts, upstream: .directToLoopback()
        )
    }

    /// A server standing for the teacher's desk (any server will do: nothing may reach it).
    @Test func theDeskIsNeverFetchedThroughTheWayOut() async throws {
        let desk = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await desk.stop() } }
        garden.server.deskListens(at: desk.port)
        for authority in ["127.0.0.1:\(desk.port)", "localhost:\(desk.port)", "127.0.0.2:\(desk.port)"] {
            let response = try await garden.raw("GET http://\(authority)/login HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\n\r\n")
            #expect(response.status == 403, "\(authority)")
            #expect(response.bodyText.contains("the garden&#39;s own port \(desk.port)") || response.bodyText.contains("the garden's own port \(desk.port)"),
                    "\(authority): \(response.bodyText)")
        }
        #expect(desk.received.withLock { $0.isEmpty })
        // Another port of the same address is the real web, let through by the allow-list.
        let other = try await LoopbackOrigin.start()
        defer { afterTest { await other.stop() } }
        let allowed = try await garden.raw("GET http://127.0.0.1:\(other.port)/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(allowed.status == 200)
    }

    @Test func theDeskIsNeverTunnelledTo() async throws {
        let desk = try await LoopbackOrigin.start()
        let garden = try await Self.garden(tunnelPorts: [443, desk.port])
        defer { afterTest { await garden.stop(); await desk.stop() } }
        garden.server.deskListens(at: desk.port)
        let response = try await garden.raw("CONNECT 127.0.0.1:\(desk.port) HTTP/1.1\r\nHost: 127.0.0.1:\(desk.port)\r\n\r\n", timeout: 2)
        #expect(response.status == 403)
        #expect(response.bodyText.contains("own port \(desk.port)"), "\(response.bodyText)")
    }

    @Test(arguments: [true, false])
    func anHTTPSURLSentToTheProxyIsRefusedNotDowngraded(withWayOut: Bool) async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = withWayOut ? try await Self.garden() : try await TestGarden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        for url in ["https://127.0.0.1:\(origin.port)/hello", "https://alpha.kp/", "HTTPS://alpha.kp/page.html"] {
            let response = try await garden.raw("GET \(url) HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n")
            #expect(response.status == 400, "\(url)")
            #expect(response.bodyText.contains("CONNECT"), "\(url): \(response.bodyText)")
        }
        #expect(origin.received.withLock { $0.isEmpty })
    }
}
