import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import GardenTeaching
import Testing

/// `replay` and `log summary` on logged requests: decisions decided again by an edited
/// copy of the shipped policy, changes grouped and counted; the summary's tables.
@Suite(.stopsWhatItStarts) struct ReplayTests {
    static let repository = ConfigCheckTests.repository

    static func event(
        _ url: String, visitorClass: String, rule: String, action: String, listener: String = "127.0.0.1:9999",
        account: String? = nil, status: Int = 200, effects: [String] = []
    ) -> AuditEvent {
        AuditEvent(
            time: 1_795_893_601_000, listener: listener, client: "127.0.0.1", visitorClass: visitorClass, account: account,
            method: "GET", url: url, host: URL(string: url)?.host ?? "-", rule: rule, action: action, effects: effects,
            status: status, bytes: 100
        )
    }

    /// What the shipped policy logged: citizens kept from foreign news, an official reading it.
    static let logged: [AuditEvent] = [
        event("http://worldnews.example/", visitorClass: "citizen", rule: "foreign-news-unavailable", action: "unavailable", status: 451),
        event("http://worldnews.example/world.html", visitorClass: "citizen", rule: "foreign-news-unavailable", action: "unavailable", status: 451),
        event("http://worldnews.example/", visitorClass: "official", rule: "officials-everywhere", action: "allow",
              listener: "127.0.0.1:8081", effects: ["monitor", "throttle"]),
        event("http://encyclopedia.example/", visitorClass: "citizen", rule: "citizens-stay-inside", action: "notfound", status: 404),
        event("http://achim.news.kp/", visitorClass: "citizen", rule: "default", action: "allow", effects: ["rewrite"]),
        AuditEvent(
            time: 1_795_893_601_000, listener: "127.0.0.1:8080", client: "127.0.0.1", visitorClass: "citizen", method: "-", url: "-",
            host: "-", rule: nil, action: "refused", status: 400, bytes: 10
        ),
    ]

    /// A copy of the shipped Config/ with `edit` applied to policy.yaml.
    static func candidate(_ edit: (String) -> String) throws -> GardenConfig {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Shipped.root.appendingPathComponent("Config"), to: folder)
        let policyFile = folder.appendingPathComponent("policy.yaml")
        let edited = edit(try String(contentsOf: policyFile, encoding: .utf8))
        try edited.write(to: policyFile, atomically: true, encoding: .utf8)
        return try ConfigDirectory(path: folder.path).load()
    }

    @Test func theShippedPolicyChangesNothing() throws {
        let replay = Replay.run(Self.logged, candidate: try Self.candidate { $0 }, sitesDirectory: Shipped.root.appendingPathComponent("Sites").path)
        #expect(replay.total == 6)
        #expect(replay.replayed == 5)
        #expect(replay.changes.isEmpty)
        #expect(replay.lines.contains("No decision would change."))
    }

    @Test func liftingTheNewsBlackoutShowsWhatOpens() throws {
        // The teacher deletes the foreign-news rule: citizens now meet "stay inside" instead.
        let candidate = try Self.candidate { policy in
            policy.replacingOccurrences(of: "  - id: foreign-news-unavailable", with: "  - id: foreign-news-unavailable\n    shadow: true")
        }
        let replay = Replay.run(Self.logged, candidate: candidate, sitesDirectory: Shipped.root.appendingPathComponent("Sites").path)
        #expect(replay.changes == [
            Replay.Change(
                before: "foreign-news-unavailable → unavailable", after: "citizens-stay-inside → notfound", count: 2,
                example: "citizen GET http://worldnews.example/"
            ),
        ])
        #expect(replay.hitsBefore["foreign-news-unavailable"] == 2)
        #expect(replay.hitsAfter["foreign-news-unavailable"] == nil)
        #expect(replay.hitsAfter["citizens-stay-inside"] == 3)
        let report = replay.lines.joined(separator: "\n")
        #expect(report.contains("2 decisions would change:"))
        #expect(report.contains("foreign-news-unavailable → unavailable  citizens-stay-inside → notfound"))
    }

    @Test func droppingARewriteShows() throws {
        let candidate = try Self.candidate { policy in
            policy.replacingOccurrences(of: "  - id: citizens-read-approved-words", with: "  - id: citizens-read-approved-words\n    shadow: true")
        }
        let replay = Replay.run(Self.logged, candidate: candidate, sitesDirectory: Shipped.root.appendingPathComponent("Sites").path)
        #expect(replay.changes.map(\.before) == ["default → allow +rewrite"])
        #expect(replay.changes.map(\.after) == ["default → allow"])
    }

    @Test func theListenersPersonaDecidesTheClassAgain() throws {
        // The official came through :8081; in the candidate that port is the citizens'.
        let candidate = try Self.candidate { $0 }
        var moved = candidate
        moved.listeners = [.init(address: ListenAddress("127.0.0.1:8081")!, persona: "citizen")]
        let replay = Replay.run([Self.logged[2]], candidate: moved, sitesDirectory: Shipped.root.appendingPathComponent("Sites").path)
        #expect(replay.changes.first?.after == "foreign-news-unavailable → unavailable")
        #expect(replay.changes.first?.example == "citizen GET http://worldnews.example/")
    }

    @Test func theSummaryCountsVisitorsHostsRulesAndClasses() {
        var summary = AuditSummary()
        for event in Self.logged { summary.add(event) }
        #expect(summary.events == 6)
        #expect(summary.blockedHosts == ["worldnews.example": 2, "encyclopedia.example": 1, "-": 1])
        #expect(summary.blocksPerRule["foreign-news-unavailable → unavailable"] == 2)
        #expect(summary.blocksPerRule["(before the policy) → refused"] == 1)
        // Every citizen request is censored: four refused, one rewritten.
        #expect(summary.perClass["citizen"] == AuditSummary.Count(requests: 5, censored: 5))
        #expect(summary.perClass["official"] == AuditSummary.Count(requests: 1, censored: 0))
        let report = summary.lines().joined(separator: "\n")
        #expect(report.contains("Top blocked hosts"))
        #expect(report.contains("  worldnews.example           2"))
    }
}
