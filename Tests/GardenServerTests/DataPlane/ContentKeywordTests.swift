import Foundation
import GardenPolicy
@testable import GardenServer
import Testing

/// `content_keywords`: a page is judged by its text (E2Guardian's phrase filtering), on
/// the wire, in `check` and in `explain`, with the matched word in the explanation.
@Suite(.stopsWhatItStarts) struct ContentKeywordTests {
    static let policyText = """
    classes:
      citizen: Citizens.
    default_class: citizen
    rules:
      - id: no-drama
        reason: Foreign dramas are forbidden.
        content_keywords: [drama, 드라마]
        action: block
    default: allow
    """

    static let files: [String: String] = {
        var files = TestGarden.defaultFiles
        files["alpha.kp/drama.html"] = "<html><head><title>Tonight</title></head><body><p>A new DRAMA tonight!</p></body></html>"
        files["alpha.kp/korean.html"] = "<p>새 드라마가 나왔다</p>"
        files["alpha.kp/dramatic.html"] = "<p>A dramatic sunset.</p><script>var drama = 1;</script>"
        files["alpha.kp/drama.txt"] = "drama in a text file is not a page"
        return files
    }()

    @Test(arguments: [
        ("/drama.html", 403), ("/korean.html", 403), ("/dramatic.html", 200), ("/drama.txt", 200), ("/page.html", 200),
    ])
    func pagesAreJudgedByTheirText(path: String, status: Int) async throws {
        let policy = try Policy.parse(.init(file: "policy.yaml", text: Self.policyText))
        let garden = try await TestGarden(files: Self.files, policy: policy)
        defer { afterTest { await garden.stop() } }
        #expect(try await garden.get(path).status == status)
    }

    @Test func explainNamesTheWordsFound() throws {
        let policy = try Policy.parse(.init(file: "policy.yaml", text: Self.policyText))
        var facts = RequestFacts(visitorClass: "citizen", host: "alpha.kp", zone: .intranet, path: "/korean.html")
        facts.contentWords = ["드라마"]
        let decision = policy.decide(facts)
        #expect(decision.ruleID == "no-drama")
        let explanation = Explanation(policy: policy, request: facts, decision: decision, howClassWasFound: "test", url: "http://alpha.kp/korean.html")
        #expect(explanation.lines.contains("  1. no-drama — applies (the page contains “드라마”) and decides: block."))
    }

    @Test func theShippedPhraseFilterFindsItsWordsInCheck() throws {
        let config = try ConfigDirectory(path: Shipped.root.appendingPathComponent("Config").path).load()
        #expect(config.policy.contentKeywords == ["internet", "인터넷"])
        let planned = try VisitPlanner(sites: SiteFolders(config: config, directory: Shipped.root.appendingPathComponent("Sites").path))
            .plan(Visit(url: "http://encyclopedia.example/wiki/internet.html", persona: "official", time: 0))
        let words = try #require(planned.facts).contentWords
        #expect(words.contains("internet"))
    }
}
