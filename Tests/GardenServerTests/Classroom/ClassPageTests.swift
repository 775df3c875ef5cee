import Foundation
@testable import GardenDesk
import GardenPolicy
@testable import GardenServer
import GardenTeaching
import Testing

/// The desk's Class page over real sockets: the roster with each student's class and
/// sign-in; a live move ("now you are an official: look again") that the student's next
/// request is decided under, and back; the sign-in cards, made once, whose passwords work.
@Suite(.stopsWhatItStarts) struct ClassPageTests {
    typealias Browser = SignInTests.Browser

    @Test func theTeacherMovesAStudentLiveAndBack() async throws {
        let (room, passwords) = try await SignInTests.classroomWithPasswords()
        defer { afterTest { await room.stop() } }
        var student = Browser(port: room.citizenPort)
        _ = try await student.signIn("ri-su-jong", try #require(passwords["ri-su-jong"]))
        #expect(try await student.send("GET", "/site/encyclopedia.example/").status == 404)

        let (cookie, csrf) = try await room.session()
        let page = try await room.desk.get("/class", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.bodyText.contains("<td>ri-su-jong</td><td>citizen</td>"))
        #expect(page.bodyText.contains("<td>yes "), "ri-su-jong is signed in")
        // Moved to the officials: the next request is an official's.
        let moved = try await room.desk.post("/class/move", form: "csrf=\(csrf)&student=ri-su-jong&class=official", cookie: cookie)
        #expect(moved.status == 303)
        #expect(try await student.send("GET", "/site/encyclopedia.example/").status == 200)
        #expect(try await student.send("GET", "/sign-in").bodyText.contains("<strong>official</strong>"))
        #expect(try await room.desk.get("/class", cookie: cookie).bodyText.contains("moved"))
        // And back.
        _ = try await room.desk.post("/class/move", form: "csrf=\(csrf)&student=ri-su-jong&class=citizen", cookie: cookie)
        #expect(try await student.send("GET", "/site/encyclopedia.example/").status == 404)
        #expect(room.server.students.moves.isEmpty)
        // The teacher signs the student out.
        _ = try await room.desk.post("/class/sign-out", form: "csrf=\(csrf)&student=ri-su-jong", cookie: cookie)
        #expect(try await student.send("GET", "/sign-in").bodyText.contains("<h1>Sign in</h1>"))
    }

    @Test(arguments: [
        ("student=ri-su-jong&class=official", "wrong-token", 403),
        ("student=nobody&class=official", nil, 400),
        ("student=ri-su-jong&class=emperor", nil, 400),
    ] as [(String, String?, Int)])
    func aMoveNeedsItsTokenAStudentAndAClass(form: String, token: String?, status: Int) async throws {
        let room = try await DeskDashboardTests.Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, csrf) = try await room.session()
        let response = try await room.desk.post("/class/move", form: "csrf=\(token ?? csrf)&\(form)", cookie: cookie)
        #expect(response.status == status)
        #expect(room.server.students.moves.isEmpty)
    }

    @Test func theCardsAreShownOnceAndTheirPasswordsWork() async throws {
        let room = try await DeskDashboardTests.Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, csrf) = try await room.session()
        #expect(try await room.desk.get("/class", cookie: cookie).bodyText.contains("for the 6 without one"))
        let cards = try await room.desk.post("/class/passwords", form: "csrf=\(csrf)&scope=missing", cookie: cookie)
        #expect(cards.status == 200)
        #expect(cards.header("Cache-Control") == "no-store")
        let html = cards.bodyText
        #expect(html.contains("@media print"))
        #expect(html.components(separatedBy: "<section class=\"card\">").count == 7, "one card per student")
        #expect(html.contains("http://localhost:"), "where to sign in")
        // The password on kim-ok-sun's card signs her in.
        let card = try #require(html.components(separatedBy: "<section class=\"card\">").first { $0.contains(">kim-ok-sun<") })
        let start = try #require(card.range(of: "Password <span class=\"value\">"))
        let password = String(card[start.upperBound...].prefix { $0 != "<" })
        #expect(password.split(separator: "-").count == 4)
        // Only hashes are kept.
        let kept = try String(contentsOfFile: room.configFolder.appendingPathComponent("classroom-passwords").path, encoding: .utf8)
        #expect(!kept.contains(password))
        #expect(kept.contains("kim-ok-sun $scrypt$"))
        var student = Browser(port: room.citizenPort)
        #expect(try await student.signIn("kim-ok-sun", password).status == 303)
        #expect(try await student.send("GET", "/sign-in").bodyText.contains("Signed in as kim-ok-sun"))
        // A second click makes none: everyone has one.
        let again = try await room.desk.post("/class/passwords", form: "csrf=\(csrf)&scope=missing", cookie: cookie)
        #expect(again.bodyText.contains("No new passwords"))
        #expect(try await room.desk.get("/class", cookie: cookie).bodyText.contains("for the 0 without one"))
    }
}

extension ClassPageTests {
    /// The sockets bound at start serve until a restart: a reload (making the cards is one)
    /// keeps them in the configuration in force, so the cards name where the garden
    /// listens, not what garden.yaml says (here the files say 127.0.0.1:8080 and :8081;
    /// the garden was started on other ports, as with --listen).
    @Test func aReloadKeepsTheListenersTheGardenServesOn() async throws {
        let room = try await DeskDashboardTests.Classroom()
        defer { afterTest { await room.stop() } }
        let started = room.reloader.runningConfig.listeners
        #expect(started.allSatisfy { $0.address.port == 0 })
        #expect(room.reloader.reload(reason: "a saved edit"))
        #expect(room.reloader.runningConfig.listeners == started)
        #expect(SignInCards.addresses(room.reloader.runningConfig) == ["http://localhost:0/sign-in"])
    }
}
