import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import GardenSites
import Logging
import NIOCore

/// A garden on an ephemeral loopback port, serving site folders made in a temporary directory.
///
/// Each test makes its own, so tests can run in parallel and edit files freely.
// @unchecked Sendable: set up in init, then only read (its members are Sendable or lets).
final class TestGarden: @unchecked Sendable {
    let directory: URL
    let sitesDirectory: URL
    let server: GardenServer
    let port: Int
    /// One port per persona, in the order given.
    let ports: [Int]
    let config: GardenConfig

    /// The files of the default test sites: `portal.kp` (the portal), `alpha.kp`
    /// (intranet, with subfolders and its own 404 page) and `outside.example` (internet).
    static let defaultFiles: [String: String] = [
        "portal.kp/index.html": "<h1>portal home</h1>",
        "alpha.kp/index.html": "<h1>alpha home</h1>",
        "alpha.kp/page.html": "<h1>alpha page</h1>",
        "alpha.kp/a..b.html": "double dots in a name are fine",
        "alpha.kp/style.css": "body { color: red; }",
        "alpha.kp/logo.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        "alpha.kp/data.bin": "0123456789abcdefghijklmnopqrstuvwxyz",
        "alpha.kp/docs/index.html": "<h1>docs index</h1>",
        "alpha.kp/docs/guide.html": "<h1>guide</h1>",
        "alpha.kp/empty/only.txt": "a folder without index",
        "alpha.kp/한글.html": "<p>korean file name</p>",
        "alpha.kp/404.html": "<h1>alpha has no such page</h1>",
        "alpha.kp/.secret": "dotfile secret",
        "alpha.kp/.git/config": "dotfolder secret",
        "outside.example/index.html": "<h1>outside home</h1>",
    ]

    /// The text of a file planted next to the site folders, which no request may ever reach.
    static let outsideSecret = "TOP-SECRET-OUTSIDE-THE-SITE-FOLDER"

    init(
        files: [String: String] = TestGarden.defaultFiles, limits: ServerLimits = ServerLimits(),
        policy: Policy = .openDoor, personas: [String?] = [nil], auditLog: AuditLogSettings? = nil,
        tunnelPorts: Set<Int>? = nil, upstream: UpstreamSettings? = nil
    ) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("garden-test-\(UUID().uuidString)")
        sitesDirectory = directory.appendingPathComponent("Sites")
        for (path, text) in files {
            try Self.write(text, to: sitesDirectory.appendingPathComponent(path))
        }
        // Planted outside every site folder: traversal tests look for this text.
        try Self.write(Self.outsideSecret, to: sitesDirectory.appendingPathComponent("secret.txt"))
        try Self.write(Self.outsideSecret, to: directory.appendingPathComponent("secret.txt"))
        try Self.write(Self.outsideSecret, to: directory.appendingPathComponent("etc/passwd"))
        // A symlink out of the site folder, and one that stays inside.
        try FileManager.default.createSymbolicLink(
            atPath: sitesDirectory.appendingPathComponent("alpha.kp/escape.txt").path,
            withDestinationPath: directory.appendingPathComponent("secret.txt").path
        )
        try FileManager.default.createSymbolicLink(
            atPath: sitesDirectory.appendingPathComponent("alpha.kp/escape-dir").path,
            withDestinationPath: directory.path
        )
        try FileManager.default.createSymbolicLink(
            atPath: sitesDirectory.appendingPathComponent("alpha.kp/inside-link.html").path,
            withDestinationPath: "page.html"
        )

        let registry = SiteRegistry(
            sites: [
                SiteEntry(host: "portal.kp", aliases: ["www.portal.kp"], zone: .intranet),
                SiteEntry(host: "alpha.kp", aliases: ["www.alpha.kp"], zone: .intranet),
                SiteEntry(host: "outside.example", zone: .internet),
            ],
            portalHost: "portal.kp"
        )
        var config = GardenConfig(
            listeners: personas.map { .init(address: ListenAddress(host: "127.0.0.1", port: 0), persona: $0) },
            sites: registry,
            limits: limits,
            policy: policy
        )
        if let tunnelPorts { config.tunnelPorts = tunnelPorts }
        if let upstream { config.upstream = upstream }
        self.config = config
        var logger = Logger(label: "test-garden")
        logger.logLevel = .critical
        let library = try SiteLibrary(root: sitesDirectory.path, folders: registry.sites.map(\.folder), logger: logger)
        // The log's path is taken inside the test's folder.
        var logSettings = auditLog
        logSettings?.path = directory.appendingPathComponent(auditLog?.path ?? "").path
        auditLogPath = logSettings?.path
        // The certificate authority of the simulated sites' TLS tunnels, kept in the test's folder.
        server = GardenServer(
            config: config, library: library, logger: logger, audit: try AuditTrail(settings: logSettings, logger: logger),
            siteCertificates: SiteCertificates(directory: directory.path, logger: logger)
        )
        let bound = try await server.start()
        ports = bound.map { $0.port ?? 0 }
        port = ports.first ?? 0
        self.library = library
        self.logger = logger
    }

    let library: SiteLibrary
    let logger: Logger
    /// The certificate of the garden's authority, to hand to `curl --cacert`.
    var certificateAuthorityFile: String { directory.appendingPathComponent("garden-ca.pem").path }
    /// Where the audit log is written, when the garden has one.
    let auditLogPath: String?

    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Stops the server and removes the temporary folder.
    func stop() async {
        await server.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sends raw bytes on a new connection and reads until the server closes or `timeout`.
    func raw(_ request: String, timeout: Double = 5, port: Int? = nil) async throws -> RawResponse {
        try await RawConnection.exchange(port: port ?? self.port, send: Array(request.utf8), timeout: timeout)
    }

    /// A plain GET with a Host header, read as a raw response.
    func get(_ path: String, host: String = "alpha.kp", headers: [String] = [], port: Int? = nil) async throws -> RawResponse {
        let extra = headers.map { $0 + "\r\n" }.joined()
        return try await raw("GET \(path) HTTP/1.1\r\nHost: \(host)\r\n\(extra)Connection: close\r\n\r\n", port: port)
    }
}

extension UpstreamSettings {
    /// A way out to the real network (`upstream: direct`) whose SSRF guard lets 127.0.0.1
    /// through, where the tests' stand-ins for real hosts listen — or, with
    /// `allowingLoopback: false`, the guard as shipped.
    static func directToLoopback(allowingLoopback: Bool = true) -> UpstreamSettings {
        var upstream = UpstreamSettings()
        upstream.mode = .direct
        if allowingLoopback { upstream.guardrail = DestinationGuard(allowed: [IPAddressRange("127.0.0.1/32")!]) }
        return upstream
    }
}
