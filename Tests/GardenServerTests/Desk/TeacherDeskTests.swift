import Foundation
@testable import GardenAudit
@testable import GardenDesk
import GardenPolicy
import GardenServer
import Logging
import Synchronization
import Testing

/// The teacher's desk over real sockets: nothing but the login page and `/healthz`
/// without a session; the login form's CSRF token; a wrong password refused and, after
/// a few, a back-off; the session cookie's flags; reveal behind the login; logout needs
/// its CSRF token.
@Suite(.stopsWhatItStarts) struct TeacherDeskTests {
    /// `walled-garden hash-password --cost 10` of "teacher".
    static let hash = "$scrypt$ln=10,r=8,p=1$IUV53XuR2WTOh8EYo2/mcQ$GZj3UuGPtdZ8GWV61eK1YCLanLdEKgy/NX2BlRM8piw"

    // @unchecked Sendable: set up in init, then only read (its members are Sendable or lets).
    final class Desk: @unchecked Sendable {
        let task: Task<Void, Never>
        let port: Int

        convenience init() async throws {
            let config = try ConfigDirectory(path: Shipped.root.appendingPathComponent("Config").path).load()
            try await self.init(sitesDirectory: Shipped.root.appendingPathComponent("Sites").path) { config }
        }

        /// A desk attached to a garden's audit trail and reloader.
        init(
            audit: AuditTrail? = nil, reloader: ConfigReloader? = nil, configDirectory: String? = nil, sitesDirectory: String,
            openConnections: @escaping @Sendable () -> Int = { 0 }, logger given: Logger? = nil, students: StudentSessions? = nil,
            lessonsDirectory: String? = nil, currentConfig: @escaping @Sendable () -> GardenConfig
        ) async throws {
            let settings = TeacherSettings(address: ListenAddress("127.0.0.1:0")!, passwordHash: try PasswordHash.parse(TeacherDeskTests.hash).get())
            var logger = given ?? Logger(label: "desk-test")
            if given == nil { logger.logLevel = .critical }
            let desk = TeacherDesk(
                settings: settings, sitesDirectory: sitesDirectory, logger: logger, audit: audit, reloader: reloader,
                configDirectory: configDirectory, openConnections: openConnections, students: students,
                passwordCost: PasswordHash.acceptedLogRounds.lowerBound, lessonsDirectory: lessonsDirectory, currentConfig: currentConfig
            )
            let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
            let failure = Mutex<(any Error)?>(nil)
            task = Task {
                do {
                    try await desk.run { port in continuation.yield(port) }
                } catch {
                    failure.withLock { $0 = error }
                }
                continuation.finish()  // a desk that cannot start ends the wait, and the test fails at once
            }
            var iterator = stream.makeAsyncIterator()
            guard let bound = await iterator.next() else {
                throw DeskDidNotStart(reason: failure.withLock { $0.map { "\($0)" } } ?? "it stopped before listening")
            }
            port = bound
        }

        func request(_ text: String) async throws -> RawResponse {
            try await Self.request(text, port: port)
        }

        func get(_ path: String, cookie: String? = nil) async throws -> RawResponse {
            try await Self.get(path, cookie: cookie, port: port)
        }

        func post(_ path: String, form: String, cookie: String?) async throws -> RawResponse {
            try await Self.post(path, form: form, cookie: cookie, port: port)
        }

        /// A fresh login form: its CSRF token and the cookie that goes with it.
        func loginForm() async throws -> (token: String, cookie: String) {
            try await Self.loginForm(port: port)
        }

        func logIn(password: String = "teacher") async throws -> RawResponse {
            try await Self.logIn(password: password, port: port)
        }

        // The same for a desk at `port` that another process runs.

        static func request(_ text: String, port: Int, timeout: Double = 5) async throws -> RawResponse {
            try await RawConnection.exchange(port: port, send: Array(text.utf8), timeout: timeout)
        }

        static func get(_ path: String, cookie: String? = nil, port: Int) async throws -> RawResponse {
            try await request("GET \(path) HTTP/1.1\r\nHost: desk\r\n\(cookie.map { "Cookie: \($0)\r\n" } ?? "")Connection: close\r\n\r\n", port: port)
        }

        static func post(_ path: String, form: String, cookie: String?, port: Int, timeout: Double = 5) async throws -> RawResponse {
            try await request(
                "POST \(path) HTTP/1.1\r\nHost: desk\r\n\(cookie.map { "Cookie: \($0)\r\n" } ?? "")"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\nConnection: close\r\n\r\n\(form)",
                port: port, timeout: timeout
            )
        }

        static func loginForm(port: Int) async throws -> (token: String, cookie: String) {
            let page = try await get("/login", port: port)
            let html = page.bodyText
            let start = try #require(html.range(of: "name=\"csrf\" value=\""))
            let token = String(html[start.upperBound...].prefix { $0 != "\"" })
            return (token, "garden_login=\(token)")
        }

        static func logIn(password: String, port: Int) async throws -> RawResponse {
            let (token, cookie) = try await loginForm(port: port)
            let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
            // scrypt runs at the lowest CPU priority: on a loaded machine a check takes seconds.
            return try await post("/login", form: "csrf=\(token)&password=\(encoded)", cookie: cookie, port: port, timeout: 60)
        }

        static func sessionCookie(of response: RawResponse) -> String? {
            let text = String(decoding: response.bytes, as: UTF8.self)
            guard let range = text.range(of: "set-cookie: garden_teacher=", options: .caseInsensitive) else { return nil }
            return "garden_teacher=" + text[range.upperBound...].prefix { $0 != ";" }
        }

        func stop() { task.cancel() }
    }

    struct DeskDidNotStart: Error, CustomStringConvertible {
        let reason: String
        var description: String { "the teacher's desk did not start: \(reason)" }
    }

    @Test func onlyTheLoginPageAndHealthzAreOpen() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        #expect(try await desk.get("/healthz").status == 200)
        #expect(try await desk.get("/login").status == 200)
        for path in ["/", "/reveal?url=http://friend.com.kp/&as=citizen", "/feed", "/now", "/policy", "/switches"] {
            let response = try await desk.get(path)
            #expect(response.status == 303)
            #expect(response.header("Location") == "/login")
        }
        // Data and scripts answer 401 rather than redirect.
        for path in ["/desk.js", "/feed/events", "/trace/1", "/metrics"] {
            #expect(try await desk.get(path).status == 401, "\(path)")
        }
        #expect(try await desk.post("/switches", form: "switch=exam-day&state=on", cookie: nil).status == 303)
        #expect(try await desk.get("/", cookie: "garden_teacher=forged").status == 303)
    }

    @Test func aRightPasswordGivesASessionCookieWithItsFlags() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let response = try await desk.logIn()
        #expect(response.status == 303)
        let text = String(decoding: response.bytes, as: UTF8.self).lowercased()
        #expect(text.contains("set-cookie: garden_teacher="))
        #expect(text.contains("; httponly; samesite=strict"))
        let cookie = try #require(Desk.sessionCookie(of: response))
        let home = try await desk.get("/", cookie: cookie)
        #expect(home.status == 200)
        #expect(home.bodyText.contains("Reveal"))
        #expect(home.header("Content-Security-Policy")?.hasPrefix("default-src 'none'") == true)
    }

    @Test func theLoginFormsTokenIsRequired() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let (token, cookie) = try await desk.loginForm()
        // No token, a token without its cookie, a token someone made up: all refused.
        #expect(try await desk.post("/login", form: "password=teacher", cookie: cookie).status == 403)
        #expect(try await desk.post("/login", form: "csrf=\(token)&password=teacher", cookie: nil).status == 403)
        #expect(try await desk.post("/login", form: "csrf=abc&password=teacher", cookie: "garden_login=abc").status == 403)
        // Used once, the form's token is spent.
        #expect(try await desk.post("/login", form: "csrf=\(token)&password=teacher", cookie: cookie).status == 303)
        #expect(try await desk.post("/login", form: "csrf=\(token)&password=teacher", cookie: cookie).status == 403)
    }

    /// Large type for a projector: one click turns it on for every page (a cookie), one
    /// more turns it off; the click goes back to the desk page it came from, never away.
    @Test func largeTypeIsOneClickAway() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let cookie = try #require(Desk.sessionCookie(of: try await desk.logIn()))
        let normal = try await desk.get("/", cookie: cookie).bodyText
        #expect(normal.contains("<html lang=\"en\"><head>"))
        #expect(normal.contains("<a href=\"/large\">Large type</a>"))
        func click(_ cookies: String, from referer: String) async throws -> RawResponse {
            try await desk.request("GET /large HTTP/1.1\r\nHost: desk\r\nCookie: \(cookies)\r\nReferer: \(referer)\r\nConnection: close\r\n\r\n")
        }
        let on = try await click(cookie, from: "http://127.0.0.1:\(desk.port)/now")
        #expect(on.status == 303)
        #expect(on.header("Location") == "/now")
        #expect(on.header("Set-Cookie")?.hasPrefix("garden_large=1;") == true)
        let large = try await desk.get("/now", cookie: cookie + "; garden_large=1").bodyText
        #expect(large.contains("<html lang=\"en\" class=\"large\">"))
        #expect(large.contains("<a href=\"/large\">Normal type</a>"))
        let off = try await click(cookie + "; garden_large=1", from: "http://elsewhere.example//evil")
        #expect(off.header("Set-Cookie")?.hasPrefix("garden_large=0;") == true)
        #expect(off.header("Location") == "/")
        // Without a session, no toggle: the login page.
        #expect(try await click("", from: "http://127.0.0.1/").header("Location") == "/login")
    }

    @Test func wrongPasswordsAreRefusedThenBackedOff() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        var lastFailure = ContinuousClock.now
        for _ in 0..<3 {
            lastFailure = ContinuousClock.now
            #expect(try await desk.logIn(password: "wrong").status == 401)
        }
        let blocked = try await desk.logIn(password: "teacher")
        // The back-off is a second after the third failure: a loaded machine has taken
        // longer than that to send the next attempt, which then rightly gets in.
        if ContinuousClock.now - lastFailure < .milliseconds(900) {
            #expect(blocked.status == 429)
            #expect(blocked.header("Retry-After") != nil)
        } else {
            #expect(blocked.status == 429 || blocked.status == 303)
        }
        // The back-off is short at first: after it, the right password works.
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await desk.logIn(password: "teacher").status == 303)
    }

    @Test func revealShowsWhatTheCensorChanged() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let cookie = try #require(Desk.sessionCookie(of: try await desk.logIn()))
        let page = try await desk.get("/reveal?url=http%3A%2F%2Ffriend.com.kp%2F&as=citizen", cookie: cookie)
        #expect(page.status == 200)
        let html = page.bodyText
        #expect(html.contains("replaced “오빠” with “동지”"))
        #expect(html.contains("<td class=\"ins\">      &lt;p&gt;동지, 수놓이"))
        let official = try await desk.get("/reveal?url=http%3A%2F%2Ffriend.com.kp%2F&as=official", cookie: cookie)
        #expect(official.bodyText.contains("no rule rewrites this page for this visitor"))
    }

    @Test func logoutNeedsItsToken() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let cookie = try #require(Desk.sessionCookie(of: try await desk.logIn()))
        #expect(try await desk.post("/logout", form: "csrf=forged", cookie: cookie).status == 403)
        #expect(try await desk.get("/", cookie: cookie).status == 200)
        let home = try await desk.get("/", cookie: cookie).bodyText
        let form = try #require(home.range(of: "action=\"/logout\""))
        let start = try #require(home[form.upperBound...].range(of: "name=\"csrf\" value=\""))
        let csrf = String(home[start.upperBound...].prefix { $0 != "\"" })
        #expect(try await desk.post("/logout", form: "csrf=\(csrf)", cookie: cookie).status == 303)
        #expect(try await desk.get("/", cookie: cookie).status == 303)
    }
}
