import Foundation
@testable import GardenAudit
import GardenPolicy
@testable import GardenServer
import Logging
import SwiftASN1
import Testing
import X509

/// `https://` pages of the simulated sites through the proxy, with the real curl a
/// student uses: the garden answers an allowed CONNECT as the site, over TLS with a
/// certificate of its own authority (which curl checks); the censor judges the name in
/// the TLS handshake (SNI) and resets a handshake that names a blocked site; inside, it
/// sees no path and changes no word. And the authority: kept, constrained to the sites'
/// names, made anew when a site it does not cover appears.
@Suite(.stopsWhatItStarts) struct SiteTunnelTests {
    static let policyText = """
    classes: {citizen: Citizens., official: Officials.}
    default_class: citizen
    rules:
      - id: officials-anywhere
        reason: Officials.
        classes: [official]
        action: allow
      - id: page-by-path
        reason: One page is forbidden by its path.
        hosts: [alpha.kp]
        paths: [/page.html]
        action: block
      - id: outside-cut-by-name
        reason: The outside is cut by its name.
        hosts: [outside.example]
        action: reset
      - id: words
        reason: Citizens read approved words.
        hosts: [alpha.kp]
        effects:
          - rewrite: {substitute: {home: hearth}}
    default: allow
    """

    static func garden(limits: ServerLimits = ServerLimits()) async throws -> TestGarden {
        try await TestGarden(
            limits: limits, policy: try Policy.parse(.init(file: "policy.yaml", text: policyText)), personas: [nil, "official"],
            auditLog: AuditLogSettings(path: "audit.jsonl")
        )
    }

    /// curl through the garden's proxy on `port`, trusting only the garden's authority.
    static func curl(_ url: String, garden: TestGarden, port: Int? = nil, extra: [String] = []) async throws -> Curl.Outcome {
        try await Curl.outcome(
            ["--proxy", "http://127.0.0.1:\(port ?? garden.port)", "--cacert", garden.certificateAuthorityFile] + extra + [url]
        )
    }

    @Test func httpsReachesASimulatedSiteThroughTheProxy() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        // curl checks the certificate against the authority (name, chain, constraints).
        let page = try await Self.curl("https://alpha.kp/", garden: garden, port: garden.ports[1])
        #expect(page.exitCode == 0, "\(page.errors)")
        #expect(page.output == "<h1>alpha home</h1>")
        let official = try await Self.curl("https://outside.example/", garden: garden, port: garden.ports[1])
        #expect(official.output == "<h1>outside home</h1>")
        // A file the site does not have: the site's own 404, from inside the tunnel.
        let missing = try await Self.curl("https://alpha.kp/nothing.html", garden: garden, extra: ["--write-out", " %{http_code}"])
        #expect(missing.output.hasSuffix(" 404"))
    }

    @Test func insideTheTunnelTheCensorSeesNoPathAndChangesNoWord() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        // In the clear, the path rule blocks the page and the words are changed.
        #expect(try await Self.curl("http://alpha.kp/page.html", garden: garden, extra: ["--write-out", " %{http_code}"]).output.hasSuffix(" 403"))
        #expect(try await Self.curl("http://alpha.kp/", garden: garden).output.contains("<h1>alpha hearth</h1>"))
        // Encrypted, the censor saw only the name alpha.kp, which it allows.
        #expect(try await Self.curl("https://alpha.kp/page.html", garden: garden).output == "<h1>alpha page</h1>")
        #expect(try await Self.curl("https://alpha.kp/", garden: garden).output == "<h1>alpha home</h1>")
        // Its log has the tunnel, and not the pages read inside it.
        await garden.server.audit.flush()
        let events = try AuditLogTests.events(in: try #require(garden.auditLogPath))
        #expect(events.filter { $0.method == "CONNECT" }.map(\.url) == ["alpha.kp:443", "alpha.kp:443"])
        #expect(!events.contains { $0.url.contains("page.html") && $0.status == 200 })
    }

    @Test func aHandshakeNamingABlockedSiteIsReset() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        // By name in the CONNECT: reset before any TLS.
        let byConnect = try await Self.curl("https://outside.example/", garden: garden)
        #expect(byConnect.exitCode == 56, "\(byConnect.errors)")
        #expect(byConnect.errors.contains("reset"))
        // CONNECT alpha.kp:443 (allowed), with outside.example in the handshake's SNI.
        let bySNI = try await Self.curl("https://outside.example/", garden: garden, extra: ["--connect-to", "outside.example:443:alpha.kp:443"])
        #expect(bySNI.exitCode == 35, "\(bySNI.errors)")
        #expect(bySNI.errors.contains("reset"))
        await garden.server.audit.flush()
        let events = try AuditLogTests.events(in: try #require(garden.auditLogPath))
        let caught = try #require(events.first { $0.url == "alpha.kp:443 (SNI outside.example)" })
        #expect(caught.action == "reset")
        #expect(caught.rule == "outside-cut-by-name")
        // An official's handshake may name it: the garden answers as that site.
        let official = try await Self.curl(
            "https://outside.example/", garden: garden, port: garden.ports[1], extra: ["--connect-to", "outside.example:443:alpha.kp:443"]
        )
        #expect(official.output == "<h1>outside home</h1>")
    }

    @Test func aRequestForAnotherSiteInsideIsMisdirected() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let fronted = try await Self.curl(
            "https://alpha.kp/", garden: garden, extra: ["--header", "Host: outside.example", "--write-out", " %{http_code}"]
        )
        #expect(fronted.output.hasSuffix(" 421"))
        #expect(fronted.output.contains("this connection is to alpha.kp"))
        // A client that does not trust the garden's authority refuses its certificate.
        let untrusting = try await Curl.outcome(["--proxy", "http://127.0.0.1:\(garden.port)", "https://alpha.kp/"])
        #expect(untrusting.exitCode == 60, "\(untrusting.errors)")
    }

    @Test func theGardenHandsOutItsAuthoritysCertificate() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/garden-ca.pem", host: "127.0.0.1:\(garden.port)")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/x-pem-file")
        let kept = try String(contentsOfFile: garden.certificateAuthorityFile, encoding: .utf8)
        #expect(response.bodyText == kept)
        #expect(!response.bodyText.contains("PRIVATE KEY"))
        // What a student downloads is enough for curl to trust the sites.
        let downloaded = garden.directory.appendingPathComponent("downloaded.pem").path
        try response.bodyText.write(toFile: downloaded, atomically: true, encoding: .utf8)
        let page = try await Curl.outcome(["--proxy", "http://127.0.0.1:\(garden.port)", "--cacert", downloaded, "https://alpha.kp/"])
        #expect(page.output == "<h1>alpha home</h1>", "\(page.errors)")
    }

    @Test func whatIsNotTLSEndsTheTunnelAndNothingIsLeftBehind() async throws {
        var limits = ServerLimits()
        limits.requestTimeout = .seconds(1)
        let garden = try await Self.garden(limits: limits)
        defer { afterTest { await garden.stop() } }
        // Plain HTTP where a TLS handshake should be; a handshake cut short; silence.
        let cases = ["GET / HTTP/1.1\r\nHost: alpha.kp\r\n\r\n", "\u{16}\u{03}\u{01}\u{00}", ""]
        for payload in cases {
            let ending = try await RawConnection.offPool {
                let connection = try RawConnection(port: garden.port, timeout: 5)
                connection.send(Array("CONNECT alpha.kp:443 HTTP/1.1\r\nHost: alpha.kp:443\r\n\r\n\(payload)".utf8))
                return connection.readToEnd()
            }
            #expect(ending != .open, "\(payload.debugDescription)")
        }
        let start = ContinuousClock.now
        while garden.server.liveConnectionHandlers > 0, ContinuousClock.now - start < .seconds(15) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(garden.server.liveConnectionHandlers == 0)
    }

    @Test func aTunnelToPort80SpeaksPlainHTTP() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw(
            "CONNECT alpha.kp:80 HTTP/1.1\r\nHost: alpha.kp:80\r\n\r\nGET /docs/guide.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n"
        )
        #expect(response.text.hasPrefix("HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.1 200 OK\r\n"))
        #expect(response.text.hasSuffix("<h1>guide</h1>"))
    }

    @Test func theAuthorityIsKeptConstrainedToTheSitesAndMadeAnewForANewSite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authority-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var logger = Logger(label: "authority")
        logger.logLevel = .critical
        let registry = SiteRegistry(
            sites: [SiteEntry(host: "portal.kp", aliases: ["portal.localhost"], zone: .intranet), SiteEntry(host: "news.example", zone: .internet)],
            portalHost: "portal.kp"
        )
        let first = try SiteCertificates(directory: folder.path, logger: logger).authorityPEM(registry: registry)
        let keyFile = folder.appendingPathComponent("garden-ca.key").path
        let permissions = try #require(try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int)
        #expect(permissions == 0o600)
        let certificate = try Certificate(pemEncoded: first)
        let constraints = try #require(try certificate.extensions.nameConstraints)
        #expect(Array(constraints.permittedDNSDomains) == ["news.example", "portal.kp"])
        #expect(try certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        // Kept: a second start uses the same authority.
        #expect(try SiteCertificates(directory: folder.path, logger: logger).authorityPEM(registry: registry) == first)
        // A site it does not cover: a new authority, which covers it.
        var grown = registry.sites
        grown.append(SiteEntry(host: "relay.example", zone: .internet))
        let renewed = try SiteCertificates(directory: folder.path, logger: logger)
            .authorityPEM(registry: SiteRegistry(sites: grown, portalHost: "portal.kp"))
        #expect(renewed != first)
        #expect(Array(try #require(try Certificate(pemEncoded: renewed).extensions.nameConstraints).permittedDNSDomains).contains("relay.example"))
        #expect(try String(contentsOfFile: folder.appendingPathComponent("garden-ca.pem").path, encoding: .utf8).hasPrefix(renewed))
    }

    /// The great-firewall lesson as its guide runs it: the keyword hidden by TLS, the
    /// encyclopedia reset by the name in the handshake.
    @Test func theGreatFirewallLessonOverRealTLS() async throws {
        let garden = try await LessonPackTests.LessonGarden(lesson: "great-firewall")
        defer { afterTest { await garden.stop() } }
        let citizen = try #require(garden.ports["citizen"])
        let authority = garden.directory.path + "/garden-ca.pem"
        func curl(_ url: String, _ extra: [String] = []) async throws -> Curl.Outcome {
            try await Curl.outcome(["--proxy", "http://127.0.0.1:\(citizen)", "--cacert", authority, "--write-out", " %{http_code}"] + extra + [url])
        }
        #expect(try await curl("http://relay.example/?q=falun").exitCode == 56)  // the words of a plain request: reset
        let hidden = try await curl("https://relay.example/?q=falun")
        #expect(hidden.exitCode == 0 && hidden.output.hasSuffix(" 200"), "\(hidden.errors)")
        #expect(try await curl("https://encyclopedia.example/").exitCode == 56)  // the name in CONNECT
        let bySNI = try await curl("https://encyclopedia.example/", ["--connect-to", "encyclopedia.example:443:relay.example:443"])
        #expect(bySNI.exitCode == 35, "\(bySNI.errors)")  // the name in the handshake
    }
}
