import AsyncHTTPClient
import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

/// The desk in a real browser: headless Chromium driven through chromedriver (WebDriver)
/// logs in, opens the live feed, sees a student's request appear in it, and saves a
/// screenshot in the test's temporary folder. Needs Debian's `chromium` and
/// `chromium-driver` (`.ci/run` installs them); without them the test is skipped. One
/// browser at a time: each takes a core for seconds as it starts, and the rest of the
/// suite's timing tests run beside them.
@Suite(.enabled(if: Chromium.isInstalled, "needs chromium and chromium-driver"), .stopsWhatItStarts, .serialized)
struct DeskBrowserTests {
    static let chromedriver = Chromium.driver
    static let chromium = Chromium.browser

    /// A WebDriver session on a chromedriver of our own.
    // @unchecked Sendable: its session is set in init, then only read; one test drives it.
    final class Browser: @unchecked Sendable {
        let driver = Process()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let base: String
        var session = ""

        /// - Parameter arguments: more command-line switches for Chromium (a PAC URL, say).
        init(arguments: [String] = []) async throws {
            // A port the system says is free (a random one has met a port in use, and
            // chromedriver then exits at once).
            let port = try GardenProcess.freePort()
            base = "http://127.0.0.1:\(port)"
            driver.executableURL = URL(fileURLWithPath: DeskBrowserTests.chromedriver)
            driver.arguments = ["--port=\(port)"]
            driver.standardOutput = FileHandle.nullDevice
            driver.standardError = FileHandle.nullDevice
            browserStep("starting chromedriver on port \(port)")
            try driver.run()
            browserStep("chromedriver is pid \(driver.processIdentifier)")
            do {
                try await startSession(arguments: arguments)
            } catch {
                // A session that could not start leaves no chromedriver running and no
                // HTTP client unreleased (a debug build traps on one).
                await quit()
                throw error
            }
        }

        private func startSession(arguments: [String]) async throws {
            // Ready when /status answers.
            var ready = false
            for _ in 0..<100 where !ready {
                try await Task.sleep(for: .milliseconds(100))
                ready = (try? await call("GET", "/status")) != nil
            }
            browserStep(ready ? "chromedriver is ready" : "chromedriver did not start")
            try #require(ready, "chromedriver did not start")
            let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
                "browserName": "chrome",
                "goog:chromeOptions": [
                    "binary": DeskBrowserTests.chromium,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"] + arguments,
                ],
            ]]]
            let created = try await call("POST", "/session", capabilities)
            session = try #require((created["value"] as? [String: Any])?["sessionId"] as? String)
            browserStep("session \(session)")
        }

        @discardableResult
        func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
            var request = HTTPClientRequest(url: base + path)
            request.method = .init(rawValue: method)
            request.headers.add(name: "Content-Type", value: "application/json")
            if let body { request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))) }
            let client = self.client
            let sent = request
            // The whole exchange, body included, within 60 s: a chromedriver or Chromium that
            // hangs fails the test instead of holding the run for ever.
            let (status, bytes) = try await withinDeadline(.seconds(60), "\(method) \(path)") {
                let response = try await client.execute(sent, timeout: .seconds(30))
                return (response.status.code, try await response.body.collect(upTo: 32 << 20))
            }
            let json = try JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any] ?? [:]
            if status >= 400 { throw WebDriverError(message: "\(method) \(path): \(json)") }
            return json
        }

        func open(_ url: String) async throws {
            try await call("POST", "/session/\(session)/url", ["url": url])
        }

        func element(_ css: String) async throws -> String {
            let found = try await call("POST", "/session/\(session)/element", ["using": "css selector", "value": css])
            let value = try #require(found["value"] as? [String: Any])
            return try #require(value.values.first as? String)
        }

        func script(_ source: String) async throws -> Any? {
            try await call("POST", "/session/\(session)/execute/sync", ["script": source, "args": []])["value"]
        }

        func screenshot() async throws -> Data {
            let base64 = try #require(try await call("GET", "/session/\(session)/screenshot")["value"] as? String)
            return try #require(Data(base64Encoded: base64))
        }

        /// Ends the session, stops chromedriver (and waits until it has exited, so that no
        /// test run leaves one behind) and releases the HTTP client.
        func quit() async {
            // Chromium closes with its session; a chromedriver stuck closing it (a loaded
            // machine) is not waited for past 15 s: it is killed below either way.
            if !session.isEmpty {
                let (session, browser) = (session, self)
                _ = await finishes(within: .seconds(15)) { _ = try? await browser.call("DELETE", "/session/\(session)") }
            }
            if driver.isRunning {
                // chromedriver outlives SIGTERM (`terminate()`) here; its browser has gone
                // with the session, so nothing is lost by killing it.
                kill(driver.processIdentifier, SIGKILL)
                let deadline = ContinuousClock.now + .seconds(5)
                while driver.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            }
            browserStep("chromedriver stopped; releasing the client")
            try? await client.shutdown()
            browserStep("client released")
        }
    }

    /// The browser set up only by the garden's PAC file, as a student would be: the
    /// portal, a site and a censored page load through the garden by their real names.
    @Test func aBrowserSetUpByThePACFileBrowsesTheGarden() async throws {
        let (room, browser) = try await Self.classroomAndBrowser { ["--proxy-pac-url=http://127.0.0.1:\($0.citizenPort)/proxy.pac"] }
        defer { afterTest { await Self.close(room, browser) } }
        let pages: [(url: String, title: String, text: String, shot: String)] = [
            ("http://kwangmyong.kp/", "Kwangmyong portal", "friend.com.kp", "portal.png"),
            ("http://friend.com.kp/", "Feed", "동지", "friend.png"),
            ("http://worldnews.example/", "Unavailable for legal reasons", "has been restricted by", "blocked.png"),
        ]
        for page in pages {
            browserStep("opening \(page.url)")
            try await browser.open(page.url)
            let title = try await browser.script("return document.title") as? String ?? ""
            let text = try await browser.script("return document.body.innerText") as? String ?? ""
            #expect(title.contains(page.title), "\(page.url): \(title)")
            #expect(text.contains(page.text), "\(page.url)")
            let png = try await browser.screenshot()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            try png.write(to: room.folder.appendingPathComponent(page.shot))
            if let keep = ProcessInfo.processInfo.environment["GARDEN_KEEP_SCREENSHOTS"] {
                try? png.write(to: URL(fileURLWithPath: keep).appendingPathComponent(page.shot))
            }
        }
        // The garden saw all three, as a citizen, through the proxy.
        browserStep("flushing the audit trail")
        await room.server.audit.flush()
        browserStep("flushed")
        let seen = room.server.audit.feed.subscribe(history: 50).history.map(\.event)
        for page in pages {
            #expect(seen.contains { $0.url == page.url && $0.visitorClass == "citizen" }, "\(page.url)")
        }
    }

    /// A browser with no proxy setting at all, as on a managed Chromebook: the garden's own
    /// address leads to every site by path (the gateway form), each page shows its real
    /// address in a strip the page's CSP allows by its hash, and the censor still decides.
    @Test func aBrowserWithNoSettingsBrowsesByTheGardensAddress() async throws {
        let (room, browser) = try await Self.classroomAndBrowser()
        defer { afterTest { await Self.close(room, browser) } }
        let garden = "http://127.0.0.1:\(room.citizenPort)"
        browserStep("opening the portal by the garden's address")
        try await browser.open(garden + "/")
        #expect((try await browser.script("return document.title") as? String ?? "").contains("Kwangmyong portal"))
        // The portal's link to the social network, as a student would click it.
        let link = try await browser.script(
            "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href')).find(h => h && h.startsWith('/site/friend.com.kp/'))"
        ) as? String
        let friend = try #require(link, "the portal has no link to friend.com.kp in the gateway form")
        browserStep("opening \(friend)")
        try await browser.open(garden + friend)
        #expect((try await browser.script("return document.title") as? String ?? "").contains("Feed"))
        let strip = try await browser.script("return document.querySelector('.garden-address').textContent") as? String
        #expect(strip == "http://friend.com.kp/")
        // Styled: the CSP let the strip's style sheet in by its hash.
        let colour = try await browser.script("return getComputedStyle(document.querySelector('.garden-address')).backgroundColor") as? String
        #expect(colour == "rgb(34, 34, 34)")
        let png = try await browser.screenshot()
        try png.write(to: room.folder.appendingPathComponent("gateway.png"))
        if let keep = ProcessInfo.processInfo.environment["GARDEN_KEEP_SCREENSHOTS"] {
            try? png.write(to: URL(fileURLWithPath: keep).appendingPathComponent("gateway.png"))
        }
        browserStep("opening a censored site")
        try await browser.open(garden + "/site/worldnews.example/")
        #expect((try await browser.script("return document.title") as? String ?? "").contains("Unavailable for legal reasons"))
        await room.server.audit.flush()
        let seen = room.server.audit.feed.subscribe(history: 50).history.map(\.event)
        #expect(seen.contains { $0.url == "http://worldnews.example/" && $0.status == 451 })
    }

    /// A classroom (a garden on the shipped files, with its desk) and a browser; close both
    /// with `close` (`defer { afterTest { await Self.close(room, browser) } }`).
    /// - Parameter arguments: Chromium's extra switches, given the classroom.
    static func classroomAndBrowser(
        _ function: String = #function, arguments: (DeskDashboardTests.Classroom) -> [String] = { _ in [] }
    ) async throws -> (DeskDashboardTests.Classroom, Browser) {
        browserStep("classroom", function)
        let room = try await DeskDashboardTests.Classroom()
        browserStep("browser", function)
        do {
            return (room, try await Browser(arguments: arguments(room)))
        } catch {
            await room.stop()
            throw error
        }
    }

    static func close(_ room: DeskDashboardTests.Classroom, _ browser: Browser, _ function: String = #function) async {
        browserStep("quitting", function)
        await browser.quit()
        browserStep("stopping the classroom", function)
        await room.stop()
        browserStep("stopped", function)
    }

    struct WebDriverError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    @Test func theFeedUpdatesInChromium() async throws {
        let (room, browser) = try await Self.classroomAndBrowser()
        defer { afterTest { await Self.close(room, browser) } }
        browserStep("logging in")
        let desk = "http://127.0.0.1:\(room.desk.port)"
        try await browser.open(desk + "/login")
        let password = try await browser.element("input[name=password]")
        try await browser.call("POST", "/session/\(browser.session)/element/\(password)/value", ["text": "teacher"])
        let button = try await browser.element("form button")
        try await browser.call("POST", "/session/\(browser.session)/element/\(button)/click", [:])
        // The password is checked off the event loop (slowly on a loaded machine): the
        // session exists once the browser has left the login page.
        var loggedIn = false
        for _ in 0..<100 where !loggedIn {
            loggedIn = (try? await browser.script("return location.pathname") as? String).map { $0 != "/login" } ?? false
            if !loggedIn { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(loggedIn, "the desk's login did not finish")
        try await browser.open(desk + "/feed")

        // Wait for the feed to be live, then browse as a student.
        var live = false
        for _ in 0..<50 where !live {
            live = (try await browser.script("return document.getElementById('status').textContent") as? String) == "live"
            if !live { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(live, "the feed did not connect")
        browserStep("browsing as a student")
        // A browser's background traffic first (a tunnel to a host that is no site): hidden
        // from the feed unless the teacher asks for it.
        _ = try await RawConnection.exchange(
            port: room.citizenPort, send: Array("CONNECT background.example:443 HTTP/1.1\r\nHost: background.example:443\r\n\r\n".utf8), timeout: 5
        )
        let student = try await room.browse("http://worldnews.example/seen-in-chromium")
        #expect(student.status == 451)

        var text = ""
        for _ in 0..<50 where !text.contains("seen-in-chromium") {
            try await Task.sleep(for: .milliseconds(100))
            text = try await browser.script("return document.getElementById('events').textContent") as? String ?? ""
        }
        #expect(text.contains("GET http://worldnews.example/seen-in-chromium  → unavailable (foreign-news-unavailable)  451"))
        let shownRows = "return [...document.querySelectorAll('#events div')].filter(d => !d.hidden).map(d => d.textContent).join('\\n')"
        let shown = try await browser.script(shownRows) as? String ?? ""
        #expect(shown.contains("seen-in-chromium"))
        #expect(!shown.contains("background.example"), "background traffic is shown by default")
        let toggle = try await browser.element("#filter-background")
        try await browser.call("POST", "/session/\(browser.session)/element/\(toggle)/click", [:])
        let all = try await browser.script(shownRows) as? String ?? ""
        #expect(all.contains("CONNECT background.example:443"), "\(all)")
        try await browser.call("POST", "/session/\(browser.session)/element/\(toggle)/click", [:])
        let colour = try await browser.script("return document.querySelector('#events div').className") as? String
        #expect(colour == "a-unavailable")

        // Clicking the event shows why.
        browserStep("clicking the event")
        let row = try await browser.element("#events div")
        try await browser.call("POST", "/session/\(browser.session)/element/\(row)/click", [:])
        var why = ""
        for _ in 0..<50 where !why.contains("foreign-news-unavailable — applies") {
            try await Task.sleep(for: .milliseconds(100))
            why = try await browser.script("return document.getElementById('trace').textContent") as? String ?? ""
        }
        #expect(why.contains("foreign-news-unavailable — applies and decides: unavailable."))

        browserStep("screenshot")
        let png = try await browser.screenshot()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let file = room.folder.appendingPathComponent("live-feed.png")
        try png.write(to: file)
        // Kept for a person to look at when the test runs with GARDEN_KEEP_SCREENSHOTS set.
        if let keep = ProcessInfo.processInfo.environment["GARDEN_KEEP_SCREENSHOTS"] {
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            try? png.write(to: URL(fileURLWithPath: keep).appendingPathComponent("live-feed.png"))
        }
        #expect(FileManager.default.fileExists(atPath: file.path))

        // Now, with its chart of allowed and censored requests per class.
        browserStep("opening Now")
        try await browser.open(desk + "/now")
        let charts = try await browser.script("return document.querySelectorAll('svg.chart').length") as? Int ?? 0
        #expect(charts >= 1)
        let nowShot = try await browser.screenshot()
        try nowShot.write(to: room.folder.appendingPathComponent("now.png"))
        if let keep = ProcessInfo.processInfo.environment["GARDEN_KEEP_SCREENSHOTS"] {
            try? nowShot.write(to: URL(fileURLWithPath: keep).appendingPathComponent("now.png"))
        }

        // Who sees what: the table in colour (a blocked cell is red).
        browserStep("opening the matrix")
        try await browser.open(desk + "/matrix")
        let cell = try await browser.script(
            "const c = [...document.querySelectorAll('table.matrix td')].find(td => td.textContent === 'unavailable'); "
                + "return c ? getComputedStyle(c).backgroundColor : null"
        ) as? String
        #expect(cell == "rgb(247, 198, 194)")
        let matrix = try await browser.screenshot()
        try matrix.write(to: room.folder.appendingPathComponent("matrix.png"))
        if let keep = ProcessInfo.processInfo.environment["GARDEN_KEEP_SCREENSHOTS"] {
            try? matrix.write(to: URL(fileURLWithPath: keep).appendingPathComponent("matrix.png"))
        }
    }
}

/// A line on standard error for each step of a browser test, with the seconds since the
/// process started: a test that hangs on a loaded machine (CI) shows where it stopped.
func browserStep(_ what: String, _ function: String = #function) {
    let elapsed = ContinuousClock.now - browserStepsStart
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    FileHandle.standardError.write(Data("[browser test \(function)] \(String(format: "%.2f", seconds)) s: \(what)\n".utf8))
}

private let browserStepsStart = ContinuousClock.now

/// Where Debian puts Chromium and its WebDriver.
enum Chromium {
    static let driver = "/usr/bin/chromedriver"
    static let browser = "/usr/bin/chromium"
    static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: driver) && FileManager.default.isExecutableFile(atPath: browser)
    }
}
