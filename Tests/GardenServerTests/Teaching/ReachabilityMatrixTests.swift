import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching
import Testing

/// Who sees what on the shipped garden: every class against every site, as the data
/// plane plans each visit; on the desk, the same table in colour.
@Suite(.stopsWhatItStarts) struct ReachabilityMatrixTests {
    /// A Sunday noon in Pyongyang: no schedule (the exam-time shutdown) applies.
    static let sunday = Schedule.moment("2026-11-29T12:00+09:00")!

    @Test func theShippedGardenAsATable() throws {
        let config = try ConfigDirectory(path: Shipped.config.path).load()
        let matrix = ReachabilityMatrix(config: config, sitesDirectory: Shipped.sites.path, time: Self.sunday)
        #expect(matrix.classes.first == "citizen")
        #expect(Set(matrix.classes) == Set(config.policy.classes.keys))
        #expect(matrix.sites.map(\.host) == config.sites.sites.map(\.host))
        func cell(_ visitorClass: String, _ host: String) throws -> ReachabilityMatrix.Cell {
            let row = try #require(matrix.classes.firstIndex(of: visitorClass))
            let column = try #require(matrix.sites.firstIndex { $0.host == host })
            return matrix.cells[row][column]
        }
        #expect(try cell("citizen", "worldnews.example").label == "unavailable")
        #expect(try cell("citizen", "worldnews.example").rule == "foreign-news-unavailable")
        #expect(try cell("citizen", "friend.com.kp").label == "rewritten")
        #expect(try cell("citizen", "encyclopedia.example").label == "notfound")
        #expect(try cell("citizen", "search.example").label == "redirect")
        #expect(try cell("official", "worldnews.example").label == "throttled")
        #expect(try cell("foreigner", "friend.com.kp").label == "notfound")
        #expect(try cell("soldier_abroad", "worldnews.example").label == "allow")
        #expect(try cell("soldier_abroad", "worldnews.example").rule == "soldiers-abroad-unfiltered")
        #expect(matrix.lines.count == matrix.classes.count + 2)
    }

    @Test func theDeskDrawsItForASignedInTeacher() async throws {
        let desk = try await TeacherDeskTests.Desk()
        defer { desk.stop() }
        #expect(try await desk.get("/matrix").status == 303)  // to the login page
        let cookie = try #require(TeacherDeskTests.Desk.sessionCookie(of: try await desk.logIn()))
        let page = try await desk.get("/matrix", cookie: cookie)
        #expect(page.status == 200)
        let html = page.bodyText
        #expect(html.contains("<h1>Who sees what</h1>"))
        #expect(html.contains("<th>worldnews.example<br><small>internet</small></th>"))
        #expect(html.contains("<td class=\"m-blocked\" title=\"rule foreign-news-unavailable: "))
        #expect(html.contains(">unavailable</td>"))
    }
}
