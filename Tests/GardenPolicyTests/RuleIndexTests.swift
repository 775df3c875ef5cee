import Foundation
import GardenPolicy
import Testing

/// The index only skips rules that cannot match: for random policies and requests, the
/// indexed decision is the one a walk through every rule makes.
@Suite struct RuleIndexTests {
    /// SplitMix64: a small seeded generator, so every run tests the same cases.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let hosts = ["a.kp", "b.kp", "x.a.kp", "y.x.a.kp", "news.example", "kp", "example", "c.example"]
    static let classes = ["citizen", "official", "foreigner"]
    static let paths = ["/", "/news/", "/news/1.html", "/office/"]

    static func randomRule(_ number: Int, _ random: inout SeededGenerator) -> Rule {
        var conditions: [Rule.Condition] = []
        if Bool.random(using: &random) {
            let patterns = (0..<Int.random(in: 1...3, using: &random)).map { _ -> HostPattern in
                let host = hosts.randomElement(using: &random)!
                return Bool.random(using: &random) ? .exact(host) : .suffix(host)
            }
            conditions.append(.hosts(HostSet(patterns)))
        }
        if Int.random(in: 0..<3, using: &random) == 0 {
            conditions.append(.classes(Set((0..<Int.random(in: 1...2, using: &random)).map { _ in classes.randomElement(using: &random)! })))
        }
        if Int.random(in: 0..<4, using: &random) == 0 {
            conditions.append(.paths([PathPattern(paths.randomElement(using: &random)!)!]))
        }
        if Int.random(in: 0..<5, using: &random) == 0 {
            conditions.append(.zone(Bool.random(using: &random) ? .intranet : .internet))
        }
        let actions: [CensorStyle?] = [nil, .allow, .block, .notFound, .unavailable]
        let action = actions.randomElement(using: &random)!
        return Rule(
            id: "r\(number)", reason: "rule \(number)", conditions: conditions, action: action,
            effects: action == nil || Bool.random(using: &random) ? [.monitor] : [],
            shadow: Int.random(in: 0..<6, using: &random) == 0
        )
    }

    @Test(arguments: 1...40)
    func indexedDecisionsEqualAFullWalk(seed: Int) {
        var random = SeededGenerator(state: UInt64(seed))
        let rules = (0..<Int.random(in: 1...40, using: &random)).map { Self.randomRule($0, &random) }
        let policy = Policy(classes: ["citizen": "", "official": "", "foreigner": ""], defaultClass: "citizen",
                            rules: rules, defaultAction: .allow, defaultReason: "default")
        for host in Self.hosts + ["other.kp", "deep.y.x.a.kp"] {
            for visitorClass in Self.classes {
                for path in Self.paths {
                    let facts = RequestFacts(visitorClass: visitorClass, host: host, zone: host.hasSuffix("kp") ? .intranet : .internet, path: path)
                    let walked = policy.decide(facts, tracing: true)
                    let indexed = policy.decide(facts, tracing: false)
                    #expect(indexed.ruleID == walked.ruleID, "\(host) \(visitorClass) \(path)")
                    #expect(indexed.action == walked.action)
                    #expect(indexed.effects == walked.effects)
                    #expect(indexed.shadowMatches.map(\.ruleID) == walked.shadowMatches.map(\.ruleID))
                }
            }
        }
    }

    @Test func aListOfTenThousandHostsIsOneLookup() {
        let names = (0..<10_000).map { HostPattern.exact("site\($0).example") } + [.suffix("blocked.kp")]
        let hosts = HostSet(names)
        #expect(hosts.contains("site9999.example"))
        #expect(hosts.contains("a.b.blocked.kp"))
        #expect(!hosts.contains("blocked.kp"))
        #expect(!hosts.contains("site10000.example"))
    }

    /// The deepest name a host can be (127 labels) still meets a `*.domain` rule.
    @Test func noNameIsTooDeepToMeetADomainRule() {
        let rule = Rule(id: "blocked", reason: "", conditions: [.hosts(HostSet([.suffix("blocked.kp")]))], action: .block)
        let policy = Policy(classes: ["c": ""], defaultClass: "c", rules: [rule], defaultAction: .allow, defaultReason: "")
        let deep = Array(repeating: "a", count: 121).joined(separator: ".") + ".blocked.kp"
        #expect(deep.utf8.count <= 253)
        let decision = policy.decide(RequestFacts(visitorClass: "c", host: deep, zone: nil), tracing: false)
        #expect(decision.ruleID == "blocked")
    }
}
