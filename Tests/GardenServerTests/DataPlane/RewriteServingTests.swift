import Foundation
import GardenPolicy
import Testing

/// The rewrite effect on the wire: the visitor's page is changed (links to hosts they
/// cannot reach, words), served with its own ETag, length and CSP, revalidated by that
/// ETag, and other visitors and other files are untouched.
@Suite(.stopsWhatItStarts) struct RewriteServingTests {
    static let policyText = """
    classes:
      citizen: Citizens.
      official: Officials.
    default_class: citizen
    rules:
      - id: wall
        reason: Citizens' pages lead nowhere outside and use approved words.
        classes: [citizen]
        zone: intranet
        effects:
          - rewrite: {links: neutralise, substitute: {oppa: comrade}, emphasis: [leader]}
      - id: stamp
        reason: Documents are stamped with their reader.
        classes: [citizen]
        paths: [/docs/]
        effects:
          - rewrite: {watermark: true, banner: banner}
      - id: officials-everywhere
        reason: Officials see everything.
        classes: [official]
        action: allow
      - id: inside-only
        reason: The outside does not exist for citizens.
        classes: [citizen]
        zone: internet
        action: notfound
    default: allow
    """

    static let page = """
    <!DOCTYPE html><html><head><title>Oppa</title></head><body>
    <p>oppa met the Leader.</p>
    <a href="http://outside.example/news.html">outside</a> <a href="http://portal.kp/">portal</a>
    </body></html>
    """

    static func garden() async throws -> TestGarden {
        var files = TestGarden.defaultFiles
        files["alpha.kp/page.html"] = page
        files["alpha.kp/docs/guide.html"] = page
        let policy = try Policy.parse(.init(file: "policy.yaml", text: policyText))
        return try await TestGarden(files: files, policy: policy, personas: [nil, "official"])
    }

    @Test func citizensGetTheRewrittenPage() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/page.html")
        #expect(response.status == 200)
        let html = response.bodyText
        #expect(html.contains("<p>comrade met the <strong class=\"garden-emphasis\">Leader</strong>.</p>"))
        #expect(html.contains("href=\"http://portal.kp/outside.html\" data-garden-href=\"http://outside.example/news.html\""))
        #expect(html.contains("<a href=\"http://portal.kp/\">portal</a>"))  // reachable: untouched
        #expect(response.header("Content-Length") == String(response.body.count))
        // Its own validator, and a CSP that admits exactly the added style.
        let etag = try #require(response.header("ETag"))
        #expect(etag.hasPrefix("\"r-"))
        #expect(response.header("Content-Security-Policy")?.contains("style-src 'self' 'sha256-") == true)
        let again = try await garden.get("/page.html", headers: ["If-None-Match: \(etag)"])
        #expect(again.status == 304)
    }

    @Test func officialsAndOtherFilesAreUntouched() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let official = try await garden.get("/page.html", port: garden.ports[1])
        #expect(official.bodyText == Self.page)
        #expect(official.header("ETag")?.hasPrefix("\"r-") == false)
        let css = try await garden.get("/style.css")
        #expect(css.bodyText == "body { color: red; }")
    }

    @Test func theWatermarkAndBannerAreAddedWhereARuleSaysSo() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let html = try await garden.get("/docs/guide.html").bodyText
        #expect(html.contains("<meta name=\"garden-watermark\" content=\"Seen by citizen at "))
        #expect(html.contains("<footer class=\"garden-watermark\">Seen by citizen at "))
        #expect(html.contains("This page has been approved by the state."))
        // Effects of several rules add up: the link wall applies here too.
        #expect(html.contains("data-garden-href=\"http://outside.example/news.html\""))
    }

    @Test func repeatedRequestsServeTheSameBytes() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let first = try await garden.get("/page.html")
        for _ in 0..<5 {
            let next = try await garden.get("/page.html")
            #expect(next.body == first.body)
            #expect(next.header("ETag") == first.header("ETag"))
        }
    }

    @Test func aRangeOfTheRewrittenPageIsARangeOfTheRewrittenBytes() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let whole = try await garden.get("/page.html")
        let part = try await garden.get("/page.html", headers: ["Range: bytes=0-99"])
        #expect(part.status == 206)
        #expect(part.body == Array(whole.body.prefix(100)))
    }

    /// A range beyond the rewritten page's end is unsatisfiable: 416, with the length of
    /// the rewritten page (not of the page on disk).
    @Test func aRangeBeyondTheRewrittenPageIs416() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let whole = try await garden.get("/page.html")
        let length = whole.body.count
        let beyond = try await garden.get("/page.html", headers: ["Range: bytes=\(length)-"])
        #expect(beyond.status == 416)
        #expect(beyond.header("Content-Range") == "bytes */\(length)")
        let last = try await garden.get("/page.html", headers: ["Range: bytes=\(length - 1)-"])
        #expect(last.status == 206 && last.body == [whole.body[length - 1]])
    }
}
