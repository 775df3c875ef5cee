import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import Testing

/// The students' lab over real sockets, on the shipped garden: an address typed in, the
/// control and the censorship named for the student's own class; their recent requests;
/// off when garden.yaml says `lab: off`.
@Suite(.stopsWhatItStarts) struct LabTests {
    typealias ShippedGarden = VisitPlannerTests.ShippedGarden

    static func lab(_ query: String, port: Int) async throws -> RawResponse {
        try await RawConnection.exchange(
            port: port, send: Array("GET /lab\(query) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8), timeout: 10
        )
    }

    @Test(arguments: [
        ("citizen", "worldnews.example", "unavailable for legal reasons (HTTP 451) (rule foreign-news-unavailable:", "The page exists on its site"),
        ("citizen", "http%3A%2F%2Fencyclopedia.example%2F", "a fake “this address does not exist” (404): the site is hidden", "The page exists on its site"),
        ("citizen", "friend.com.kp", "the page is rewritten before you see it", "The page exists on its site"),
        ("citizen", "search.example", "redirected to http://kwangmyong.kp/", "The page exists on its site"),
        ("official", "worldnews.example", "and throttled", "The page exists on its site"),
        ("official", "nowhere.kp", "no such address on the national network (404)", "The garden has no site at this address"),
        ("soldier_abroad", "worldnews.example", "none: the page as the site has it (rule soldiers-abroad-unfiltered", "The page exists on its site"),
    ])
    func theCensorshipIsNamedForTheStudentsClass(persona: String, address: String, censorship: String, control: String) async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let page = try await Self.lab("?url=\(address)", port: try #require(garden.ports[persona]))
        #expect(page.status == 200)
        let html = page.bodyText
        #expect(html.contains("What the censor does for you (\(persona)):"), "\(html)")
        #expect(html.contains(LabPage_escaped(censorship)), "\(html)")
        #expect(html.contains(control))
    }

    /// The HTML form of a phrase (the page escapes quotes).
    func LabPage_escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }

    @Test func theStudentSeesTheirOwnRecentRequests() async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let port = try #require(garden.ports["citizen"])
        let empty = try await Self.lab("", port: port)
        #expect(empty.bodyText.contains("None yet."))
        _ = try await RawConnection.exchange(
            port: port, send: Array("GET http://worldnews.example/seen-in-the-lab HTTP/1.1\r\nHost: worldnews.example\r\nConnection: close\r\n\r\n".utf8), timeout: 10
        )
        await garden.server.audit.flush()
        let page = try await Self.lab("", port: port).bodyText
        #expect(page.contains("GET http://worldnews.example/seen-in-the-lab</td><td>unavailable (foreign-news-unavailable)</td><td>451</td>"), "\(page)")
        #expect(!page.contains("/lab</td>"), "the lab's own requests are not listed")
        // The lab is neither refused nor censored.
        await garden.server.audit.flush()
        let labEvents = garden.server.audit.feed.recent(limit: 10) { $0.action == "lab" }
        #expect(labEvents.count == 2)
        #expect(labEvents.allSatisfy { !AuditEvent.isCensored(action: $0.action, effects: $0.effects) })
    }

    @Test func whatAStudentTypesIsShownAsText() async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let page = try await Self.lab("?url=%3Cscript%3Ealert(1)%3C%2Fscript%3E", port: try #require(garden.ports["citizen"]))
        #expect(page.status == 200)
        #expect(!page.bodyText.contains("<script>"))
        #expect(page.bodyText.contains("&lt;script&gt;"))
    }

    @Test func theTeacherCanTurnItOff() async throws {
        let garden = try await ShippedGarden(lab: false)
        defer { afterTest { await garden.server.shutdown() } }
        let page = try await Self.lab("?url=worldnews.example", port: try #require(garden.ports["citizen"]))
        #expect(page.status == 404)
        #expect(!page.bodyText.contains("The lab"))
    }
}
