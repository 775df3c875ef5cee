import Foundation
import GardenPolicy
@testable import GardenServer
import GardenTeaching
import Testing

/// The desk's Lessons page over real sockets: the packs listed, a lesson started live
/// (the students' next request is decided by its policy) and ended; its guide and
/// worksheet rendered to read and print. And the Markdown they are written in.
@Suite(.stopsWhatItStarts) struct LessonDeskTests {
    @Test func theTeacherStartsALessonLiveAndEndsIt() async throws {
        let room = try await DeskDashboardTests.Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, csrf) = try await room.session()
        let page = try await room.desk.get("/lessons", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.bodyText.contains("The Great Firewall: a blocklist, resets and names"))
        #expect(page.bodyText.contains("Running now: the garden's own policy"))
        // As the garden's own policy says: the encyclopedia does not exist for citizens.
        #expect(try await room.browse("http://encyclopedia.example/").status == 404)
        let started = try await room.desk.post("/lessons", form: "csrf=\(csrf)&lesson=great-firewall", cookie: cookie)
        #expect(started.status == 303)
        #expect(room.reloader.lesson?.name == "great-firewall")
        // Now the firewall's: cut by its name with a reset (no answer at all).
        #expect(try await room.browse("http://encyclopedia.example/").status == 0)
        #expect(try await room.browse("http://relay.example/").status == 200)
        #expect(try await room.desk.get("/lessons", cookie: cookie).bodyText.contains("End this lesson"))
        // Its switches are its own.
        #expect(try await room.desk.get("/switches", cookie: cookie).bodyText.contains("switches.great-firewall.yaml"))
        // Ended: the garden's own policy again.
        _ = try await room.desk.post("/lessons", form: "csrf=\(csrf)&lesson=", cookie: cookie)
        #expect(room.reloader.lesson == nil)
        #expect(try await room.browse("http://encyclopedia.example/").status == 404)
        // A forged form changes nothing.
        #expect(try await room.desk.post("/lessons", form: "csrf=forged&lesson=great-firewall", cookie: cookie).status == 403)
        #expect(room.reloader.lesson == nil)
    }

    @Test(arguments: ["guide", "worksheet"])
    func aPacksDocumentsAreReadyToPrint(_ document: String) async throws {
        let room = try await DeskDashboardTests.Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, _) = try await room.session()
        let page = try await room.desk.get("/lessons/kwangmyong/\(document)", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.bodyText.contains("<article class=\"document\"><h1>"))
        #expect(page.bodyText.contains("<table>"))
        #expect(page.bodyText.contains("@media print"))
        #expect(try await room.desk.get("/lessons/kwangmyong/../../Config/garden", cookie: cookie).status == 404)
        #expect(try await room.desk.get("/lessons/nowhere/guide", cookie: cookie).status == 404)
    }

    @Test(arguments: [
        ("# Title", "<h1>Title</h1>\n"),
        ("A *small* **bold** `x<y` [site](http://a.kp/) [bad](javascript:alert(1))",
         "<p>A <em>small</em> <strong>bold</strong> <code>x&lt;y</code> <a href=\"http://a.kp/\">site</a> bad</p>\n"),
        ("| a | b |\n| --- | --- |\n| 1 | |", "<table>\n<tr><th>a</th><th>b</th></tr>\n<tr><td>1</td><td></td></tr>\n</table>\n"),
        ("1. one\n\n   more\n2. two", "<ol>\n<li><p>one</p><p>more</p></li>\n<li>two</li>\n</ol>\n"),
        ("- [ ] check", "<ul>\n<li>☐ check</li>\n</ul>\n"),
        ("```\n<b>\n```", "<pre><code>&lt;b&gt;</code></pre>\n"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
    ])
    func markdownReadsAsGitHubShowsIt(markdown: String, html: String) {
        #expect(MarkdownPage.html(markdown) == html)
    }
}

extension LessonDeskTests {
    /// A switch clicked in one class stays for the next; one click on the Lessons page sets
    /// the running lesson's switches back to how the pack starts them.
    @Test func aLessonsSwitchesAreSetBackWithOneClick() async throws {
        let room = try await DeskDashboardTests.Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, csrf) = try await room.session()
        _ = try await room.desk.post("/lessons", form: "csrf=\(csrf)&lesson=circumvention", cookie: cookie)
        #expect(try await room.browse("http://relay.example/").status == 200)
        let flipped = try await room.desk.post("/switches", form: "csrf=\(csrf)&switch=relay-found&state=on", cookie: cookie)
        #expect(flipped.status == 303)
        #expect(try await room.browse("http://relay.example/").status == 403)
        #expect(FileManager.default.fileExists(atPath: room.configFolder.appendingPathComponent("switches.circumvention.yaml").path))
        #expect(try await room.desk.get("/lessons", cookie: cookie).bodyText.contains("Set its switches back"))
        let reset = try await room.desk.post("/lessons/reset-switches", form: "csrf=\(csrf)", cookie: cookie)
        #expect(reset.status == 303)
        #expect(!FileManager.default.fileExists(atPath: room.configFolder.appendingPathComponent("switches.circumvention.yaml").path))
        #expect(try await room.browse("http://relay.example/").status == 200)
        #expect(try await room.desk.post("/lessons/reset-switches", form: "csrf=forged", cookie: cookie).status == 403)
    }
}
