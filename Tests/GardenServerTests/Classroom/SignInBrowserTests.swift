import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import GardenTeaching
import Testing

/// The portal's sign-in form in headless Chromium, with no proxy setting (the gateway
/// form, as on a managed Chromebook): the student types the name and password from their
/// card, is signed in, and is then of their class on every site; the teacher's live move
/// changes what the same browser gets at its next click.
extension DeskBrowserTests {
    @Test func aStudentSignsInWithTheFormInChromium() async throws {
        let (room, browser) = try await Self.classroomAndBrowser()
        defer { afterTest { await Self.close(room, browser) } }
        let cards = try ClassroomPasswords.make(
            for: room.reloader.runningConfig.roster, in: ConfigDirectory(path: room.configFolder.path), everyone: true,
            logRounds: PasswordHash.acceptedLogRounds.lowerBound
        )
        #expect(room.reloader.reload(reason: "cards made"))
        let card = try #require(cards.first { $0.student == "ri-su-jong" })
        let garden = "http://127.0.0.1:\(room.citizenPort)"

        browserStep("opening the sign-in form")
        try await browser.open(garden + "/site/kwangmyong.kp/sign-in")
        for (field, text) in [("name", card.student), ("password", card.password)] {
            let input = try await browser.element("input[name=\(field)]")
            try await browser.call("POST", "/session/\(browser.session)/element/\(input)/value", ["text": text])
        }
        let screenshot = try await browser.screenshot()
        try screenshot.write(to: room.folder.appendingPathComponent("sign-in.png"))
        if let keep = ProcessInfo.processInfo.environment["GARDEN_KEEP_SCREENSHOTS"] {
            try? screenshot.write(to: URL(fileURLWithPath: keep).appendingPathComponent("sign-in.png"))
        }
        browserStep("signing in")
        let button = try await browser.element("form button")
        try await browser.call("POST", "/session/\(browser.session)/element/\(button)/click", [:])
        var heading = ""
        for _ in 0..<100 where !heading.hasPrefix("Signed in") {
            try await Task.sleep(for: .milliseconds(100))
            heading = try await browser.script("return document.querySelector('h1') ? document.querySelector('h1').textContent : ''") as? String ?? ""
        }
        let shown = try await browser.script("return document.body.innerText") as? String ?? ""
        #expect(heading == "Signed in as ri-su-jong", "\(shown)")
        #expect(try await browser.script("return location.pathname") as? String == "/site/kwangmyong.kp/sign-in")

        // A citizen: the encyclopedia does not exist. Moved live to the officials, it does.
        let title = "return document.title"
        try await browser.open(garden + "/site/encyclopedia.example/")
        let before = try await browser.script(title) as? String ?? ""
        room.server.students.move("ri-su-jong", to: "official")
        try await browser.open(garden + "/site/encyclopedia.example/")
        let after = try await browser.script(title) as? String ?? ""
        #expect(before != after, "\(before) / \(after)")
        #expect(after.contains("Encyclopedia"), "\(after)")
        await room.server.audit.flush()
        let events = room.server.audit.feed.recent(limit: 10) { $0.account == "ri-su-jong" && $0.host == "encyclopedia.example" }
        #expect(Set(events.map(\.visitorClass)) == ["citizen", "official"])
    }
}
