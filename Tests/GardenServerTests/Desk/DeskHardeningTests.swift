import Foundation
@testable import GardenAudit
@testable import GardenDesk
import Testing

/// The desk against a room that guesses: parallel wrong logins cannot slip past the
/// back-off, and every answer is safe to show (nosniff, no framing); HEAD is answered.
@Suite(.stopsWhatItStarts) struct DeskHardeningTests {
    typealias Desk = TeacherDeskTests.Desk

    /// Forty-eight wrong logins at once: only the free attempts are checked, the rest wait.
    @Test func parallelWrongLoginsCannotRaceTheBackOff() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        var forms: [(token: String, cookie: String)] = []
        for _ in 0..<48 { forms.append(try await desk.loginForm()) }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for form in forms {
                group.addTask { try await desk.post("/login", form: "csrf=\(form.token)&password=wrong", cookie: form.cookie).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let checked = statuses.filter { $0 == 401 }.count
        #expect((3...5).contains(checked), "\(statuses.sorted())")
        #expect(statuses.filter { $0 == 429 }.count == 48 - checked, "\(statuses.sorted())")
    }

    /// The same on `/metrics`, where a scraper signs in with HTTP Basic.
    @Test func parallelWrongMetricsPasswordsCannotRaceTheBackOff() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let wrong = Data("prometheus:wrong".utf8).base64EncodedString()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    try await desk.request("GET /metrics HTTP/1.1\r\nHost: desk\r\nAuthorization: Basic \(wrong)\r\nConnection: close\r\n\r\n").status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // Three free tries, then a wait of 1 s: on a loaded machine a try can arrive after
        // that second (it is then checked, and the next wait is 2 s). Never more than that.
        let checked = statuses.filter { $0 == 401 }.count
        #expect((3...5).contains(checked), "\(statuses.sorted())")
        #expect(statuses.filter { $0 == 429 }.count == 24 - checked, "\(statuses.sorted())")
    }

    /// A right password on `/metrics` forgets the wrong ones before it.
    @Test func theRightMetricsPasswordForgivesEarlierGuesses() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let wrong = Data("p:wrong".utf8).base64EncodedString()
        let right = Data("p:teacher".utf8).base64EncodedString()
        for _ in 0..<2 {
            #expect(try await desk.request("GET /metrics HTTP/1.1\r\nHost: d\r\nAuthorization: Basic \(wrong)\r\nConnection: close\r\n\r\n").status == 401)
        }
        #expect(try await desk.request("GET /metrics HTTP/1.1\r\nHost: d\r\nAuthorization: Basic \(right)\r\nConnection: close\r\n\r\n").status == 200)
        for _ in 0..<2 {
            #expect(try await desk.request("GET /metrics HTTP/1.1\r\nHost: d\r\nAuthorization: Basic \(wrong)\r\nConnection: close\r\n\r\n").status == 401)
        }
    }

    @Test(arguments: ["/login", "/healthz", "/", "/trace/1", "/desk.js", "/no-such-page"])
    func everyAnswerIsNosniffAndUnframable(path: String) async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let response = try await desk.get(path)
        #expect(response.header("X-Content-Type-Options") == "nosniff", "\(path)")
        #expect(response.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true, "\(path)")
    }

    /// The trace echoes a student's URL: as text, never sniffed, sandboxed.
    @Test func theTraceIsPlainTextThatNothingRuns() async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let cookie = try #require(Desk.sessionCookie(of: try await desk.logIn()))
        let trace = try await desk.get("/trace/999999", cookie: cookie)
        #expect(trace.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(trace.header("X-Content-Type-Options") == "nosniff")
        #expect(trace.header("Content-Security-Policy")?.contains("sandbox") == true)
    }

    @Test(arguments: [("/login", 200), ("/healthz", 200), ("/", 303)])
    func headIsAnsweredLikeGetWithoutTheBody(path: String, status: Int) async throws {
        let desk = try await Desk()
        defer { desk.stop() }
        let response = try await desk.request("HEAD \(path) HTTP/1.1\r\nHost: desk\r\nConnection: close\r\n\r\n")
        #expect(response.status == status, "\(path)")
        #expect(response.body.isEmpty, "\(path)")
    }
}
