import Foundation
import GardenPolicy
import Testing

/// Switches: named sets of rules turned on and off; their states from switches.yaml;
/// mistakes pinpointed in either file.
@Suite struct PolicySwitchTests {
    static let policy = """
    classes: {citizen: Citizens.}
    default_class: citizen
    rules:
      - id: exam
        reason: Exams.
        action: drop
      - id: news
        reason: News.
        hosts: [news.example]
        action: unavailable
    switches:
      exam-day: {title: Exam day, rules: [exam], default: off}
      blackout: {rules: [news]}
    default: allow
    """

    static func config(policy: String = policy, switches: String?) throws(ConfigErrors) -> GardenConfig {
        try GardenConfig.parse(
            garden: .init(file: "garden.yaml", text: "listeners: [127.0.0.1:8080]\nportal: portal.kp"),
            sites: .init(file: "sites.yaml", text: "sites:\n  portal.kp: {zone: intranet}\n  news.example: {zone: internet}"),
            policy: .init(file: "policy.yaml", text: policy),
            switches: switches.map { .init(file: "switches.yaml", text: $0) }
        )
    }

    static func decide(_ policy: Policy, host: String) -> String {
        let facts = RequestFacts(visitorClass: "citizen", clientAddress: nil, host: host, zone: nil, path: "/", method: "GET", query: "")
        return policy.decide(facts, tracing: false).ruleID
    }

    @Test func defaultsApplyWithoutTheOverlay() throws {
        let policy = try Self.config(switches: nil).policy
        #expect(policy.switches.map(\.id) == ["exam-day", "blackout"])
        #expect(policy.switches.map(\.isOn) == [false, true])
        #expect(policy.switches[0].title == "Exam day")
        #expect(policy.switches[1].title == "blackout")
        #expect(policy.rules.map(\.id) == ["news"])
        #expect(policy.allRules.map(\.id) == ["exam", "news"])
        #expect(policy.switchedOff == ["exam": "exam-day"])
        #expect(Self.decide(policy, host: "portal.kp") == "default")
        #expect(Self.decide(policy, host: "news.example") == "news")
    }

    @Test(arguments: [
        ("exam-day: on\nblackout: off", "exam", "exam"),
        ("exam-day: off\nblackout: off", "default", "default"),
        ("# only comments\n", "default", "news"),
        ("", "default", "news"),
        ("blackout: true", "default", "news"),
    ])
    func theOverlaySetsTheSwitches(overlay: String, portal: String, news: String) throws {
        let policy = try Self.config(switches: overlay).policy
        #expect(Self.decide(policy, host: "portal.kp") == portal)
        #expect(Self.decide(policy, host: "news.example") == news)
    }

    @Test func switchingBackRestoresTheRules() throws {
        let policy = try Self.config(switches: "exam-day: on").policy
        let off = policy.applyingSwitches(["exam-day": false, "blackout": false])
        #expect(off.rules.isEmpty)
        let on = off.applyingSwitches(["exam-day": true])
        #expect(on.rules.map(\.id) == ["exam", "news"])
    }

    @Test(arguments: [
        (policy.replacingOccurrences(of: "rules: [exam]", with: "rules: [exams]"), nil as String?,
         "policy.yaml:12:39: switch 'exam-day' names rule 'exams', which policy.yaml does not have (did you mean 'exam'?)"),
        (policy.replacingOccurrences(of: "rules: [news]", with: "rules: [exam]"), nil,
         "policy.yaml:13:22: rule 'exam' is already in switch 'exam-day'; a rule belongs to one switch at most"),
        (policy.replacingOccurrences(of: "default: off}", with: "default: maybe}"), nil,
         "policy.yaml:12:55: default must be on or off, not 'maybe'"),
        (policy, "exam_day: on", "switches.yaml:1:1: no switch 'exam_day' in policy.yaml (did you mean 'exam-day'?)"),
        (policy, "exam-day: sometimes", "switches.yaml:1:11: switch 'exam-day' must be on or off, not 'sometimes'"),
    ])
    func mistakesArePinpointed(policy: String, overlay: String?, expected: String) {
        do {
            _ = try Self.config(policy: policy, switches: overlay)
            Issue.record("no error for \(expected)")
        } catch {
            #expect(error.diagnostics.map(\.description).contains(expected), "\(error.diagnostics)")
        }
    }

    @Test func theFileTheDeskWritesReadsBack() throws {
        let text = Policy.switchesFile([("exam-day", true), ("blackout", false)])
        let policy = try Self.config(switches: text).policy
        #expect(policy.switches.map(\.isOn) == [true, false])
    }
}
