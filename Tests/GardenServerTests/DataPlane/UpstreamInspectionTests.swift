import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import Synchronization
import Testing

/// Pages fetched from the real network are censored like the garden's own: read whole
/// (up to `inspect_limit`) for `content_keywords` rules and `rewrite` effects, asked for
/// uncompressed; larger pages and other answers pass unread.
@Suite(.stopsWhatItStarts) struct UpstreamInspectionTests {
    static let policyText = """
    classes: {citizen: Citizens.}
    default_class: citizen
    rules:
      - id: no-revolution
        reason: Talk of revolution is forbidden.
        content_keywords: [revolution]
        action: unavailable
      - id: no-elsewhere
        reason: Elsewhere is closed.
        hosts: [elsewhere.example]
        action: block
      - id: news-rewritten
        reason: Foreign news is corrected.
        paths: [/html/]
        effects:
          - rewrite: {links: neutralise, substitute: {weather: sunshine}}
    default: allow
    """

    static let files: [String: String] = TestGarden.defaultFiles.merging([
        "alpha.kp/html/page.html": "<html><head><title>Alpha</title></head><body><p>Fine weather.</p></body></html>",
        "alpha.kp/html/style.css": "p { color: grey; } /* weather */",
    ]) { $1 }

    static func garden(inspectLimit: Int? = nil) async throws -> TestGarden {
        var upstream = UpstreamSettings.directToLoopback()
        if let inspectLimit { upstream.inspectLimitBytes = inspectLimit }
        return try await TestGarden(
            files: files, policy: try Policy.parse(.init(file: "policy.yaml", text: policyText)),
            auditLog: AuditLogSettings(path: "audit.jsonl"), upstream: upstream
        )
    }

    /// A compressed page (the origin ignored `Accept-Encoding: identity`) passes unread and
    /// unchanged: the browser gets the real host's bytes and its `Content-Encoding`.
    @Test func aCompressedPageFromTheRealHostPassesUnreadAndWhole() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let response = try await garden.raw(UpstreamFetchTests.proxied("/gzip", origin: origin))
        #expect(response.status == 200)
        #expect(response.header("Content-Encoding") == "gzip")
        #expect(response.header("Content-Length") == String(LoopbackOrigin.gzippedPage.count))
        #expect(response.body == LoopbackOrigin.gzippedPage)
    }

    @Test func aPageWithForbiddenWordsGetsTheCensorsAnswer() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let response = try await garden.raw(UpstreamFetchTests.proxied("/html/revolution", origin: origin))
        #expect(response.status == 451)
        #expect(!response.bodyText.contains("revolution today"))
        // It was asked for uncompressed, so that it could be read.
        #expect(origin.lastRequest.lowercased().contains("accept-encoding: identity"))
        await garden.server.audit.flush()
        let event = try #require(try AuditLogTests.events(in: garden.auditLogPath ?? "").last)
        #expect(event.rule == "no-revolution" && event.action == "unavailable" && event.status == 451)
    }

    /// Asking for a part of the page (a range) does not slip the words past the censor:
    /// it asks the real host for the whole page and reads it.
    @Test func aRangeDoesNotSlipPastTheCensor() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        // The origin honours ranges: asked directly, it gives the words in a 206.
        let direct = try await RawConnection.exchange(
            port: origin.port, send: Array("GET /html/revolution HTTP/1.1\r\nHost: x\r\nRange: bytes=0-80\r\nConnection: close\r\n\r\n".utf8), timeout: 5
        )
        #expect(direct.status == 206 && direct.bodyText.contains("revolution"))
        let response = try await garden.raw(UpstreamFetchTests.proxied("/html/revolution", origin: origin, headers: ["Range: bytes=0-80"]))
        #expect(response.status == 451)
        #expect(!origin.lastRequest.lowercased().contains("range:"))
    }

    @Test func anAllowedPageIsRewrittenWithItsLength() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let response = try await garden.raw(UpstreamFetchTests.proxied("/html/weather", origin: origin))
        #expect(response.status == 200)
        #expect(response.bodyText.contains("The sunshine today."), "\(response.bodyText)")
        // The link to a blocked host is walled off; one to a host this visitor may reach
        // through the garden's way out stays.
        #expect(response.bodyText.contains("<a href=\"http://portal.kp/outside.html\" data-garden-href=\"http://elsewhere.example/\""))
        #expect(response.bodyText.contains("<a href=\"http://open.example/\">open</a>"))
        #expect(response.header("Content-Length") == String(response.body.count))
        #expect(response.header("Via") == "1.1 walled-garden")
        await garden.server.audit.flush()
        let event = try #require(try AuditLogTests.events(in: garden.auditLogPath ?? "").last)
        #expect(event.action == "allow" && event.effects == ["rewrite"])
    }

    /// The log lists `rewrite` only for answers that were rewritten: not a stylesheet or
    /// a missing page under the same rule, nor a real page passed on unread.
    @Test func theLogNamesRewritesThatHappened() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden(inspectLimit: 64)
        defer { afterTest { await garden.stop(); await origin.stop() } }
        _ = try await garden.raw(UpstreamFetchTests.proxied("/html/weather", origin: origin))  // larger than 64 bytes: unread
        for path in ["/html/page.html", "/html/style.css", "/html/missing.html"] {
            _ = try await garden.raw("GET http://alpha.kp\(path) HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n")
        }
        await garden.server.audit.flush()
        let events = try AuditLogTests.events(in: garden.auditLogPath ?? "")
        try #require(events.count == 4)
        #expect(events.map(\.action) == Array(repeating: "allow", count: 4))
        #expect(events.map(\.status) == [200, 200, 200, 404])
        #expect(events.map(\.effects) == [[], ["rewrite"], [], []])
    }

    @Test func answersThatAreNotPagesOrTooLargeGoUnread() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden(inspectLimit: 64)
        defer { afterTest { await garden.stop(); await origin.stop() } }
        // Larger than inspect_limit: passed on as it came, forbidden word and all.
        let large = try await garden.raw(UpstreamFetchTests.proxied("/html/revolution", origin: origin))
        #expect(large.status == 200)
        #expect(large.bodyText.contains("The revolution today."))
        let plain = try await garden.raw(UpstreamFetchTests.proxied("/hello", origin: origin))
        #expect(plain.status == 200 && plain.bodyText == "hello from beyond the wall")
    }
}
