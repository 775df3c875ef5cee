import Foundation
import GardenPolicy
import GardenServer
import GardenSites
import Logging
import NIOCore
import NIOPosix
import Testing

/// A port already taken: the garden says which and why, and lets go of everything it
/// had made ready.
@Suite(.stopsWhatItStarts) struct ListenFailureTests {
    /// The second listener's port is held by another server. `start` throws naming that
    /// address (the first, bound, is closed again), and the way out (an HTTP client pool,
    /// which traps in a debug build when dropped unreleased) is released with the rest.
    @Test func aTakenPortIsNamedAndNothingIsLeftRunning() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("listen-failure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("portal.kp"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("portal".utf8).write(to: folder.appendingPathComponent("portal.kp/index.html"))

        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let takenPort = try #require(taken.localAddress?.port)
        defer { afterTest { try? await taken.close() } }

        let registry = SiteRegistry(sites: [SiteEntry(host: "portal.kp", zone: .intranet)], portalHost: "portal.kp")
        var config = GardenConfig(
            listeners: [
                .init(address: ListenAddress(host: "127.0.0.1", port: 0)),
                .init(address: ListenAddress(host: "127.0.0.1", port: takenPort)),
            ],
            sites: registry
        )
        config.upstream = .directToLoopback()
        var logger = Logger(label: "listen-failure")
        logger.logLevel = .critical
        let library = try SiteLibrary(root: folder.path, folders: ["portal.kp"], logger: logger)
        var server: GardenServer? = GardenServer(config: config, library: library, logger: logger)

        let failure = await #expect(throws: GardenServerError.self) { try await server?.start() }
        #expect("\(failure.map { "\($0)" } ?? "")".contains("cannot listen on 127.0.0.1:\(takenPort)"))
        server = nil  // freed here: in a debug build, an unreleased way out would trap
    }
}
