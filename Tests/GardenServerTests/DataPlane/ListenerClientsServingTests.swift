import Foundation
import GardenPolicy
@testable import GardenServer
import GardenSites
import Logging
import NIOCore
import Testing

/// A listener's `clients:` over real sockets: a client it is not for gets 403 with the
/// reason and the connection closed; the teacher's machine is served.
@Suite(.stopsWhatItStarts) struct ListenerClientsServingTests {
    static func garden(clients: ListenerClients) async throws -> (GardenServer, Int) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clients-\(UUID().uuidString)")
        try TestGarden.write("<h1>alpha</h1>", to: folder.appendingPathComponent("alpha.kp/index.html"))
        let registry = SiteRegistry(sites: [SiteEntry(host: "alpha.kp", zone: .intranet)], portalHost: "alpha.kp")
        var logger = Logger(label: "clients")
        logger.logLevel = .critical
        let config = GardenConfig(
            listeners: [.init(address: ListenAddress("127.0.0.1:0")!, persona: "visitor", clients: clients)], sites: registry
        )
        let library = try SiteLibrary(root: folder.path, folders: ["alpha.kp"], logger: logger)
        let server = GardenServer(config: config, library: library, logger: logger)
        let port = try await server.start().first?.port ?? 0
        return (server, port)
    }

    @Test func aClientTheListenerIsNotForGets403() async throws {
        let (server, port) = try await Self.garden(clients: .ranges([IPAddressRange("10.1.2.0/24")!]))
        defer { afterTest { await server.shutdown() } }
        let answer = try await RawConnection.exchange(port: port, send: Array("GET / HTTP/1.1\r\nHost: alpha.kp\r\n\r\n".utf8), timeout: 10)
        #expect(answer.status == 403)
        #expect(answer.bodyText.contains("answers some addresses only (clients: in garden.yaml)"))
        #expect(answer.header("Connection") == "close")
    }

    @Test func theTeachersMachineIsServed() async throws {
        let (server, port) = try await Self.garden(clients: .teacher)
        defer { afterTest { await server.shutdown() } }
        let answer = try await RawConnection.exchange(
            port: port, send: Array("GET / HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n".utf8), timeout: 10
        )
        #expect(answer.status == 200)
    }
}
