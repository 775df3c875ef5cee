import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching
import Testing

/// `reveal` on the shipped scenario: what a citizen's page loses, and that an official's
/// and a blocked visitor's are said plainly.
@Suite(.stopsWhatItStarts) struct RevealTests {
    static let repository = ConfigCheckTests.repository
    /// The shipped configuration (a broken one fails each test that reads it, not the run).
    static var config: GardenConfig {
        get throws { try ConfigDirectory(path: Shipped.root.appendingPathComponent("Config").path).load() }
    }
    static let sites = Shipped.root.appendingPathComponent("Sites").path

    @Test func aCitizensPageShowsEveryChange() throws {
        let reveal = try Reveal.run(
            config: try Self.config, sitesDirectory: Self.sites, url: "http://friend.com.kp/", visitorClass: "citizen",
            account: nil, clientAddress: nil, time: 1_796_000_400
        )
        let text = reveal.lines.joined(separator: "\n")
        #expect(text.contains("rewritten by citizens-read-approved-words"))
        #expect(text.contains("  - replaced “오빠” with “동지”"))
        #expect(text.contains("  - neutralised href=http://worldnews.example/articles/space-telescope.html"))
        #expect(text.contains("-      <p>오빠, 수놓이 모임에서 만든 작품입니다. 목련꽃을 수놓았어요.</p>"))
        #expect(text.contains("+      <p>동지, 수놓이 모임에서 만든 작품입니다. 목련꽃을 수놓았어요.</p>"))
        #expect(reveal.original != reveal.filtered)
    }

    @Test func anOfficialSeesThePageAsItIs() throws {
        let reveal = try Reveal.run(
            config: try Self.config, sitesDirectory: Self.sites, url: "http://friend.com.kp/", visitorClass: "official",
            account: nil, clientAddress: nil, time: 1_796_000_400
        )
        #expect(reveal.lines.last?.hasSuffix("no rule rewrites this page for this visitor.") == true)
        #expect(reveal.original == reveal.filtered)
    }

    @Test func aVisitorWhoIsRefusedIsToldSo() throws {
        let reveal = try Reveal.run(
            config: try Self.config, sitesDirectory: Self.sites, url: "http://friend.com.kp/", visitorClass: "foreigner",
            account: nil, clientAddress: nil, time: 1_796_000_400
        )
        #expect(reveal.lines.last == "Decision: notfound, by rule foreigners-stay-outside — this visitor does not get the page at all.")
    }

    @Test(arguments: ["http://nowhere.kp/", "http://friend.com.kp/no-such-page.html", "ftp://x"])
    func addressesThatAreNotPagesAreRefused(url: String) {
        #expect(throws: Reveal.Failure.self) {
            try Reveal.run(config: try Self.config, sitesDirectory: Self.sites, url: url, visitorClass: nil, account: nil, clientAddress: nil, time: 0)
        }
    }
}
