// decide-benchmark: median time per policy decision with 10, 1,000 and 10,000 rules/hosts.
//
//   swift run -c release decide-benchmark [--indexed-only]
//
// Three policies per size N, each behind the shipped scenario's class rules:
//   rules     N rules, each blocking one host (hosts: [siteI.example])
//   list      one rule blocking a list of N hosts (as hosts: ["@blocklist"] gives)
//   domains   N rules, each blocking a domain (hosts: ["*.siteI.example"])
// Requests cycle through hosts inside and outside the blocked set, for each class.
// Each figure is the median of 31 batches of 200,000 decisions, in nanoseconds. The
// "walk" column is the same decision made by walking every rule with a trace (what
// `explain` does), for comparison.

import Foundation
import GardenPolicy

func policy(size: Int, shape: String) -> Policy {
    var rules: [Rule] = [
        Rule(id: "watch-officials", reason: "", conditions: [.classes(["official"])], action: nil, effects: [.monitor]),
        Rule(id: "officials-everywhere", reason: "", conditions: [.classes(["official", "soldier_abroad"])], action: .allow),
        Rule(id: "foreigners-stay-outside", reason: "", conditions: [.classes(["foreigner"]), .zone(.intranet)], action: .notFound),
    ]
    switch shape {
    case "rules":
        for number in 0..<size {
            rules.append(Rule(id: "block-\(number)", reason: "", conditions: [.hosts(HostSet([.exact("site\(number).example")]))], action: .block))
        }
    case "list":
        let hosts = (0..<size).map { HostPattern.exact("site\($0).example") }
        rules.append(Rule(id: "blocklist", reason: "", conditions: [.classes(["citizen"]), .hosts(HostSet(hosts))], action: .unavailable))
    default:
        for number in 0..<size {
            rules.append(Rule(id: "block-\(number)", reason: "", conditions: [.hosts(HostSet([.suffix("site\(number).example")]))], action: .block))
        }
    }
    rules.append(Rule(id: "citizens-stay-inside", reason: "", conditions: [.classes(["citizen"]), .zone(.internet)], action: .notFound))
    return Policy(
        classes: ["citizen": "", "official": "", "foreigner": "", "soldier_abroad": ""], defaultClass: "citizen",
        rules: rules, defaultAction: .allow, defaultReason: ""
    )
}

func requests(size: Int, shape: String) -> [RequestFacts] {
    var facts: [RequestFacts] = []
    var random = SystemRandomNumberGenerator()
    for number in 0..<64 {
        let inside = Int.random(in: 0..<size, using: &random)
        let host: String
        switch number % 4 {
        case 0: host = shape == "domains" ? "www.site\(inside).example" : "site\(inside).example"  // blocked
        case 1: host = "friend.com.kp"  // intranet, not listed
        case 2: host = "elsewhere.example"  // internet, not listed
        default: host = shape == "domains" ? "a.b.site\(inside).example" : "site\(inside).example"
        }
        let visitorClass = ["citizen", "official", "foreigner", "citizen"][(number / 4) % 4]
        facts.append(RequestFacts(
            visitorClass: visitorClass, host: host, zone: host.hasSuffix(".kp") ? .intranet : .internet, path: "/index.html"
        ))
    }
    return facts
}

/// Median nanoseconds per decision over `batches` batches of `perBatch` decisions.
func measure(_ policy: Policy, _ facts: [RequestFacts], tracing: Bool, batches: Int = 31, perBatch: Int = 200_000) -> Double {
    var samples: [Double] = []
    var sink = 0
    let clock = ContinuousClock()
    for _ in 0..<batches {
        let elapsed = clock.measure {
            for number in 0..<perBatch {
                sink &+= policy.decide(facts[number & 63], tracing: tracing).ruleID.utf8.count
            }
        }
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        samples.append(nanoseconds / Double(perBatch))
    }
    if sink == 42 { print("") }  // keeps the work from being optimised away
    return samples.sorted()[samples.count / 2]
}

print("decide: median ns per decision (31 batches of 200,000), \(ProcessInfo.processInfo.activeProcessorCount) cores")
print("shape    rules/hosts   indexed (ns)   walk with trace (ns)")
for shape in ["rules", "list", "domains"] {
    for size in [10, 1_000, 10_000] {
        let policy = policy(size: size, shape: shape)
        let facts = requests(size: size, shape: shape)
        // Warm up, then measure; the full walk gets fewer, shorter batches at large sizes.
        _ = measure(policy, facts, tracing: false, batches: 3, perBatch: 20_000)
        let indexed = measure(policy, facts, tracing: false)
        let walk = CommandLine.arguments.contains("--indexed-only")
            ? .nan : measure(policy, facts, tracing: true, batches: size >= 10_000 ? 5 : 11, perBatch: size >= 1_000 ? 2_000 : 50_000)
        print(
            shape.padding(toLength: 9, withPad: " ", startingAt: 0)
                + String(size).padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "%-15.0f%.0f", indexed, walk)
        )
    }
}
