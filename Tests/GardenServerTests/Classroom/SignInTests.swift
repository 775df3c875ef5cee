import Foundation
@testable import GardenAudit
import GardenPolicy
@testable import GardenServer
import GardenTeaching
import Testing

/// The portal's sign-in form over real sockets, on a copy of the shipped garden with the
/// shipped roster (classroom.yaml) and passwords made for it: a student signs in and is
/// then of their class in every address form; the form refuses what it did not hand out,
/// requests from other sites, wrong passwords (and backs off), and oversized or unencoded
/// bodies; signing out ends the session.
@Suite(.stopsWhatItStarts) struct SignInTests {
    typealias Classroom = DeskDashboardTests.Classroom

    /// A student's browser: the cookies it holds, and requests to the garden's own address.
    struct Browser {
        let port: Int
        var cookies: [String: String] = [:]

        var cookieField: String? {
            cookies.isEmpty ? nil : cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }

        /// Sends a request and keeps the cookies it sets (a cookie with Max-Age=0 is dropped).
        mutating func send(_ method: String, _ target: String, host: String? = nil, body: String? = nil, extra: String = "") async throws -> RawResponse {
            var text = "\(method) \(target) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\n"
            if let cookieField { text += "Cookie: \(cookieField)\r\n" }
            text += extra
            if let body {
                text += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n"
            }
            text += "Connection: close\r\n\r\n" + (body ?? "")
            let response = try await RawConnection.exchange(port: port, send: Array(text.utf8), timeout: 60)
            for line in response.text.components(separatedBy: "\r\n\r\n")[0].split(separator: "\r\n")
            where line.lowercased().hasPrefix("set-cookie:") {
                let pair = line.dropFirst("set-cookie:".count).trimmingCharacters(in: .whitespaces).prefix { $0 != ";" }
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2 else { continue }
                cookies[parts[0]] = line.contains("Max-Age=0") ? nil : parts[1]
            }
            return response
        }

        /// The hidden value of `name` in a page's form.
        static func hidden(_ name: String, in html: String) -> String? {
            guard let start = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(html[start.upperBound...].prefix { $0 != "\"" })
        }

        /// Opens the form and sends `name` and `password` with its token.
        mutating func signIn(_ name: String, _ password: String, path: String = "/sign-in", extra: String = "") async throws -> RawResponse {
            let form = try await send("GET", path)
            let token = try #require(Self.hidden("form", in: form.bodyText))
            let body = "form=\(token)&name=\(name)&password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            return try await send("POST", path, body: body, extra: extra)
        }
    }

    /// The shipped garden with passwords made for its roster (at the lowest cost).
    static func classroomWithPasswords() async throws -> (Classroom, [String: String]) {
        let room = try await Classroom()
        let directory = ConfigDirectory(path: room.configFolder.path)
        let roster = room.reloader.runningConfig.roster
        let cards = try ClassroomPasswords.make(for: roster, in: directory, everyone: true, logRounds: PasswordHash.acceptedLogRounds.lowerBound)
        #expect(room.reloader.reload(reason: "passwords made"))
        return (room, Dictionary(uniqueKeysWithValues: cards.map { ($0.student, $0.password) }))
    }

    @Test func aStudentWhoSignsInIsOfTheirClassInEveryAddressForm() async throws {
        let (room, passwords) = try await Self.classroomWithPasswords()
        defer { afterTest { await room.stop() } }
        var browser = Browser(port: room.citizenPort)
        // Before: a citizen, for whom the encyclopedia does not exist.
        #expect(try await browser.send("GET", "/site/encyclopedia.example/").status == 404)
        let signedIn = try await browser.signIn("choe-myong-il", try #require(passwords["choe-myong-il"]))
        #expect(signedIn.status == 303)
        #expect(signedIn.header("Location") == "sign-in")
        let setCookie = try #require(signedIn.header("Set-Cookie"))
        #expect(setCookie.hasPrefix("garden_student="))
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Max-Age=28800"))
        let page = try await browser.send("GET", "/sign-in")
        #expect(page.bodyText.contains("Signed in as choe-myong-il"))
        #expect(page.bodyText.contains("<strong>official</strong>"))
        // The gateway form, the proxy and the portal's own name: an official now.
        #expect(try await browser.send("GET", "/site/encyclopedia.example/").status == 200)
        #expect(try await browser.send("GET", "http://encyclopedia.example/", host: "encyclopedia.example").status == 200)
        // The log names the student.
        await room.server.audit.flush()
        let events = room.server.audit.feed.recent(limit: 10) { $0.account == "choe-myong-il" && $0.host == "encyclopedia.example" }
        #expect(events.count == 2)
        #expect(events.allSatisfy { $0.visitorClass == "official" && $0.action == "allow" })
        // Sign-in answers are the garden's, not the censor's.
        let forms = room.server.audit.feed.recent(limit: 20) { $0.action == "sign-in" }
        #expect(forms.count >= 3)
        #expect(forms.allSatisfy { !AuditEvent.isCensored(action: $0.action, effects: $0.effects) })
    }

    @Test func theFormIsOnThePortalInEveryForm() async throws {
        let (room, _) = try await Self.classroomWithPasswords()
        defer { afterTest { await room.stop() } }
        var browser = Browser(port: room.citizenPort)
        for (target, host) in [
            ("/sign-in", nil), ("/site/kwangmyong.kp/sign-in", nil), ("/sign-in", "kwangmyong.kp"), ("http://kwangmyong.kp/sign-in", "kwangmyong.kp"),
        ] {
            let page = try await browser.send("GET", target, host: host)
            #expect(page.status == 200, "\(target)")
            #expect(page.bodyText.contains("<form method=\"post\" action=\"sign-in\">"), "\(target)")
            #expect(page.header("Content-Security-Policy")?.contains("form-action 'self'") == true)
            #expect(page.header("Set-Cookie")?.contains("SameSite=Strict") == true)
        }
        // Another site's /sign-in is that site's own (none): 404.
        #expect(try await browser.send("GET", "/site/friend.com.kp/sign-in").status == 404)
    }

    enum Tampering: String, CaseIterable, Sendable {
        case noToken, tokenNotHandedOut, cookieDoesNotMatch, fromAnotherSite, wrongPassword, unknownStudent, tooLarge, notAForm, wrongMethod
    }

    @Test(arguments: Tampering.allCases)
    func theFormRefusesWhatItShould(_ tampering: Tampering) async throws {
        let (room, passwords) = try await Self.classroomWithPasswords()
        defer { afterTest { await room.stop() } }
        var browser = Browser(port: room.citizenPort)
        let password = try #require(passwords["ri-su-jong"])
        let form = try await browser.send("GET", "/sign-in")
        let token = try #require(Browser.hidden("form", in: form.bodyText))
        let fields = "name=ri-su-jong&password=\(password)"
        let response: RawResponse
        switch tampering {
        case .noToken: response = try await browser.send("POST", "/sign-in", body: fields)
        case .tokenNotHandedOut:
            browser.cookies[StudentSessions.formCookie] = String(repeating: "a", count: 64)
            response = try await browser.send("POST", "/sign-in", body: "form=\(String(repeating: "a", count: 64))&" + fields)
        case .cookieDoesNotMatch:
            browser.cookies[StudentSessions.formCookie] = String(repeating: "b", count: 64)
            response = try await browser.send("POST", "/sign-in", body: "form=\(token)&" + fields)
        case .fromAnotherSite:
            response = try await browser.send("POST", "/sign-in", body: "form=\(token)&" + fields, extra: "Origin: http://evil.example\r\n")
        case .wrongPassword: response = try await browser.send("POST", "/sign-in", body: "form=\(token)&name=ri-su-jong&password=guess")
        case .unknownStudent: response = try await browser.send("POST", "/sign-in", body: "form=\(token)&name=nobody&password=\(password)")
        case .tooLarge:
            response = try await browser.send("POST", "/sign-in", body: "form=\(token)&" + fields + "&pad=" + String(repeating: "x", count: 5000))
        case .notAForm:
            response = try await browser.send(
                "POST", "/sign-in", extra: "Content-Type: application/json\r\nContent-Length: 2\r\n", 
            )
        case .wrongMethod: response = try await browser.send("PUT", "/sign-in")
        }
        let expected: Int = switch tampering {
        case .tooLarge: 413
        case .notAForm: 415
        case .wrongMethod: 405
        default: 403
        }
        #expect(response.status == expected, "\(response.text.prefix(400))")
        #expect(browser.cookies[StudentSessions.sessionCookie] == nil)
        if expected == 403 {
            // The form comes back, ready for another try.
            #expect(Browser.hidden("form", in: response.bodyText) != nil)
        }
        // Still a citizen.
        #expect(try await browser.send("GET", "/site/encyclopedia.example/").status == 404)
    }

    @Test func wrongPasswordsBackOff() async throws {
        let (room, _) = try await Self.classroomWithPasswords()
        defer { afterTest { await room.stop() } }
        var browser = Browser(port: room.citizenPort)
        var statuses: [Int] = []
        // The wait doubles from 1 s after the free tries: on a loaded machine a try may come
        // after its wait has passed, so tries go on until one is made to wait.
        while statuses.count < 8, statuses.last != 429 {
            statuses.append(try await browser.signIn("ri-su-jong", "wrong").status)
        }
        #expect(statuses.prefix(SignInBackoff.freeAttempts) == [403, 403, 403])
        #expect(statuses.last == 429, "\(statuses)")
    }

    @Test func signingOutEndsTheSession() async throws {
        let (room, passwords) = try await Self.classroomWithPasswords()
        defer { afterTest { await room.stop() } }
        var browser = Browser(port: room.citizenPort)
        _ = try await browser.signIn("choe-myong-il", try #require(passwords["choe-myong-il"]))
        let cookie = try #require(browser.cookies[StudentSessions.sessionCookie])
        let page = try await browser.send("GET", "/sign-in")
        let csrf = try #require(Browser.hidden("csrf", in: page.bodyText))
        // Without its token, signing out does nothing.
        _ = try await browser.send("POST", "/sign-out", body: "csrf=wrong")
        browser.cookies[StudentSessions.sessionCookie] = cookie
        #expect(try await browser.send("GET", "/site/encyclopedia.example/").status == 200)
        let out = try await browser.send("POST", "/sign-out", body: "csrf=\(csrf)")
        #expect(out.status == 303)
        #expect(browser.cookies[StudentSessions.sessionCookie] == nil)
        // The old cookie no longer signs anyone in.
        browser.cookies[StudentSessions.sessionCookie] = cookie
        #expect(try await browser.send("GET", "/site/encyclopedia.example/").status == 404)
    }

    @Test func newPasswordsEndTheOldSessions() async throws {
        let (room, passwords) = try await Self.classroomWithPasswords()
        defer { afterTest { await room.stop() } }
        var browser = Browser(port: room.citizenPort)
        _ = try await browser.signIn("choe-myong-il", try #require(passwords["choe-myong-il"]))
        #expect(try await browser.send("GET", "/site/encyclopedia.example/").status == 200)
        _ = try ClassroomPasswords.make(
            for: room.reloader.runningConfig.roster, in: ConfigDirectory(path: room.configFolder.path), everyone: true,
            logRounds: PasswordHash.acceptedLogRounds.lowerBound
        )
        #expect(room.reloader.reload(reason: "new passwords"))
        #expect(try await browser.send("GET", "/site/encyclopedia.example/").status == 404)
    }
}
