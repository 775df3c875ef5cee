import Foundation
import GardenPolicy
import GardenSites
import Testing

/// Static serving: files, directories, methods, headers, conditional and range requests.
@Suite(.stopsWhatItStarts) struct StaticServingTests {
    @Test(arguments: [
        ("/", 200, "text/html; charset=utf-8", "alpha home"),
        ("/index.html", 200, "text/html; charset=utf-8", "alpha home"),
        ("/page.html", 200, "text/html; charset=utf-8", "alpha page"),
        ("/style.css", 200, "text/css; charset=utf-8", "color: red"),
        ("/logo.svg", 200, "image/svg+xml; charset=utf-8", "<svg"),
        ("/data.bin", 200, "application/octet-stream", "0123"),
        ("/docs/", 200, "text/html; charset=utf-8", "docs index"),
        ("/docs//guide.html", 200, "text/html; charset=utf-8", "guide"),
        ("/./page.html", 200, "text/html; charset=utf-8", "alpha page"),
        ("/a..b.html", 200, "text/html; charset=utf-8", "double dots"),
        ("/%ED%95%9C%EA%B8%80.html", 200, "text/html; charset=utf-8", "korean file name"),
        ("/page%2Ehtml", 200, "text/html; charset=utf-8", "alpha page"),
        ("/inside-link.html", 200, "text/html; charset=utf-8", "alpha page"),
        ("/page.html?query=1#frag", 200, "text/html; charset=utf-8", "alpha page"),
    ])
    func servesFiles(path: String, status: Int, contentType: String, expected: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get(path)
        #expect(response.status == status)
        #expect(response.header("Content-Type") == contentType)
        #expect(response.bodyText.contains(expected))
        #expect(response.header("Content-Length") == String(response.body.count))
    }

    @Test(arguments: [
        ("/docs", "/docs/"),
        ("/docs?x=1", "/docs/?x=1"),
        ("/empty", "/empty/"),
        ("//docs", "/docs/"),
    ])
    func directoryWithoutSlashRedirects(path: String, location: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get(path)
        #expect(response.status == 301)
        #expect(response.header("Location") == location)
    }

    @Test(arguments: ["/missing.html", "/empty/", "/docs/missing/", "/page.html/", "/.secret", "/.git/config",
                      "/escape.txt", "/escape-dir/secret.txt", "/%2e%2e_secret.txt"])
    func missingFilesGetTheSitesOwnNotFoundPage(path: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get(path)
        #expect(response.status == 404)
        #expect(response.bodyText.contains("alpha has no such page"))
        #expect(!response.bodyText.contains(TestGarden.outsideSecret))
    }

    /// The case the table above once carried defused (its `%2f` replaced by `_`): an
    /// encoded `../` is refused outright, and never reaches the planted secret.
    @Test(arguments: ["/%2e%2e%2fsecret.txt", "/%2e%2e%2Fsecret.txt", "/..%2fsecret.txt", "/docs/%2e%2e%2f%2e%2e%2fsecret.txt"])
    func anEncodedTraversalIsRefused(path: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get(path)
        #expect(response.status == 400, "\(path)")
        #expect(!response.bodyText.contains(TestGarden.outsideSecret))
    }

    @Test func siteWithoutNotFoundPageGetsTheGardens() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/missing", host: "outside.example")
        #expect(response.status == 404)
        #expect(response.bodyText.contains("Page not found"))
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        for path in ["/", "/missing", "/docs", "/%00"] {
            let response = try await garden.get(path)
            #expect(response.header("X-Content-Type-Options") == "nosniff", "\(path)")
            #expect(response.header("Referrer-Policy") == "no-referrer", "\(path)")
            // Site files get the site's sandbox; the garden's own pages may load nothing at all.
            let csp = response.header("Content-Security-Policy") ?? ""
            #expect(csp.hasPrefix("default-src 'self'") || csp.hasPrefix("default-src 'none'"), "\(path)")
            #expect(response.header("Content-Length") != nil, "\(path)")
            #expect(response.header("Date") != nil, "\(path)")
        }
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"])
    func otherMethodsAreNotAllowed(method: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw("\(method) /page.html HTTP/1.1\r\nHost: alpha.kp\r\nContent-Length: 5\r\n\r\nhello")
        #expect(response.status == 405 || (method == "BREW" && response.status == 400))
        if response.status == 405 {
            #expect(response.header("Allow") == "GET, HEAD")
        }
    }

    @Test func headIsGetWithoutTheBody() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let get = try await garden.get("/page.html")
        let head = try await garden.raw("HEAD /page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("Content-Length") == get.header("Content-Length"))
        #expect(head.header("ETag") == get.header("ETag"))
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        // Three pipelined requests in one write; answers must come back in order.
        let request = "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\n\r\n"
            + "GET /style.css HTTP/1.1\r\nHost: alpha.kp\r\n\r\n"
            + "GET /docs/guide.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n"
        let response = try await garden.raw(request)
        let text = response.text
        let page = try #require(text.range(of: "alpha page"))
        let css = try #require(text.range(of: "color: red"))
        let guide = try #require(text.range(of: "<h1>guide"))
        #expect(page.lowerBound < css.lowerBound && css.lowerBound < guide.lowerBound)
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
    }

    // MARK: - Conditional requests

    @Test func etagRevalidationGives304() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let first = try await garden.get("/page.html")
        let etag = try #require(first.header("ETag"))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
        for value in [etag, "\"other\", \(etag)", "W/\(etag)", "*"] {
            let again = try await garden.get("/page.html", headers: ["If-None-Match: \(value)"])
            #expect(again.status == 304, "\(value)")
            #expect(again.body.isEmpty)
            #expect(again.header("ETag") == etag)
        }
        let other = try await garden.get("/page.html", headers: ["If-None-Match: \"nope\""])
        #expect(other.status == 200)
    }

    @Test func lastModifiedRevalidationGives304() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let first = try await garden.get("/page.html")
        let lastModified = try #require(first.header("Last-Modified"))
        let same = try await garden.get("/page.html", headers: ["If-Modified-Since: \(lastModified)"])
        #expect(same.status == 304)
        let old = try await garden.get("/page.html", headers: ["If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"])
        #expect(old.status == 200)
        // If-None-Match takes precedence over If-Modified-Since.
        let both = try await garden.get("/page.html", headers: ["If-None-Match: \"nope\"", "If-Modified-Since: \(lastModified)"])
        #expect(both.status == 200)
        let garbage = try await garden.get("/page.html", headers: ["If-Modified-Since: yesterday"])
        #expect(garbage.status == 200)
    }

    // MARK: - Range requests (data.bin holds 36 bytes: 0-9 then a-z)

    @Test(arguments: [
        ("bytes=0-3", 206, "0123", "bytes 0-3/36"),
        ("bytes=10-", 206, "abcdefghijklmnopqrstuvwxyz", "bytes 10-35/36"),
        ("bytes=-5", 206, "vwxyz", "bytes 31-35/36"),
        ("bytes=-100", 206, "0123456789abcdefghijklmnopqrstuvwxyz", "bytes 0-35/36"),
        ("bytes=30-100", 206, "uvwxyz", "bytes 30-35/36"),
        ("bytes=35-35", 206, "z", "bytes 35-35/36"),
        ("bytes=36-", 416, "", "bytes */36"),
        ("bytes=100-200", 416, "", "bytes */36"),
        ("bytes=-0", 416, "", "bytes */36"),
        ("bytes=0-1,5-6", 200, "0123456789abcdefghijklmnopqrstuvwxyz", nil),
        ("bytes=5-2", 200, "0123456789abcdefghijklmnopqrstuvwxyz", nil),
        ("items=0-3", 200, "0123456789abcdefghijklmnopqrstuvwxyz", nil),
        ("bytes=abc", 200, "0123456789abcdefghijklmnopqrstuvwxyz", nil),
    ] as [(String, Int, String, String?)])
    func rangeRequests(range: String, status: Int, body: String, contentRange: String?) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/data.bin", headers: ["Range: \(range)"])
        #expect(response.status == status)
        #expect(response.bodyText == body)
        #expect(response.header("Content-Range") == contentRange)
        #expect(response.header("Content-Length") == String(body.utf8.count))
    }

    @Test func ifRangeWithAStaleValidatorGivesTheWholeFile() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let etag = try #require(try await garden.get("/data.bin").header("ETag"))
        let fresh = try await garden.get("/data.bin", headers: ["Range: bytes=0-3", "If-Range: \(etag)"])
        #expect(fresh.status == 206)
        let stale = try await garden.get("/data.bin", headers: ["Range: bytes=0-3", "If-Range: \"stale\""])
        #expect(stale.status == 200)
        #expect(stale.body.count == 36)
    }

    @Test func headIgnoresRange() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw("HEAD /data.bin HTTP/1.1\r\nHost: alpha.kp\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == "36")
    }

    // MARK: - Live reload

    @Test func changedFilesAreServedWithoutARestart() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let watcher = garden.library.watch(every: .milliseconds(200), logger: garden.logger)
        defer { watcher.cancel() }
        let before = try await garden.get("/page.html")
        try TestGarden.write("<h1>edited by the teacher</h1>", to: garden.sitesDirectory.appendingPathComponent("alpha.kp/page.html"))
        try TestGarden.write("<h1>brand new</h1>", to: garden.sitesDirectory.appendingPathComponent("alpha.kp/new.html"))
        try FileManager.default.removeItem(at: garden.sitesDirectory.appendingPathComponent("alpha.kp/style.css"))
        // The watcher looks every 200 ms; the deadline is generous for a loaded machine.
        let deadline = ContinuousClock.now + .seconds(10)
        var after = try await garden.get("/page.html")
        while !after.bodyText.contains("edited"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            after = try await garden.get("/page.html")
        }
        #expect(after.bodyText.contains("edited by the teacher"))
        #expect(after.header("ETag") != before.header("ETag"))
        #expect(try await garden.get("/new.html").status == 200)
        #expect(try await garden.get("/style.css").status == 404)
    }
}
