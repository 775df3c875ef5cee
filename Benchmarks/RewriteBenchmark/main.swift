// rewrite-benchmark: first-render throughput of the HTML rewriter on a 60 KB page.
//
//   swift run -c release rewrite-benchmark [page.html]
//
// Without an argument the page is built from the shipped friend.com.kp home page,
// repeated to about 60 KB (Korean and English text, links inside and outside). Three
// measurements, interleaved, each the median of 21 rounds of 20 renders, in MB/s of input:
//   parse+serialise  libxml2 reading and writing the page, nothing changed (the floor)
//   link wall        + every outside link neutralised
//   full             + substitutions, redactions and emphasis in every text node

import Foundation
import GardenPolicy
import GardenRewrite

let input: [UInt8]
if CommandLine.arguments.count > 1 {
    input = Array(try Data(contentsOf: URL(fileURLWithPath: CommandLine.arguments[1])))
} else {
    let home = try String(contentsOfFile: "Sites/friend.com.kp/index.html", encoding: .utf8)
    let start = home.range(of: "<main")!.lowerBound
    let end = home.range(of: "</main>")!.upperBound
    let body = String(home[start..<end])
    var page = String(home[..<start])
    while page.utf8.count < 60_000 { page += body + "\n" }
    page += String(home[end...])
    input = Array(page.utf8)
}

/// MB/s of input for 20 renders with `plan`, and the number of changes one render makes.
func measureOnce(_ plan: RewritePlan) -> (mbPerSecond: Double, changes: Int) {
    var changes = 0
    let clock = ContinuousClock()
    let elapsed = clock.measure {
        for _ in 0..<20 {
            changes = HTMLRewriter.rewrite(input, plan: plan, isReachable: { $0.hasSuffix(".kp") }).changes.count
        }
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(input.count * 20) / seconds / 1_000_000, changes)
}

var nothing = RewritePlan(outsidePage: "http://kwangmyong.kp/outside.html")
nothing.links = .keep
var wall = nothing
wall.links = .neutralise
var full = wall
full.substitutions = [.init(word: "oppa", replacement: "comrade"), .init(word: "오빠", replacement: "동지")]
full.redactions = ["friend", "탁구"]
full.emphasis = ["Kim", "김은별"]

print("rewrite: \(input.count) bytes of input, one core, median of 21 interleaved rounds of 20 renders each")
let plans = [("parse+serialise", nothing), ("link wall", wall), ("full", full)]
var samples = Array(repeating: [Double](), count: plans.count)
var changes = Array(repeating: 0, count: plans.count)
for _ in 0..<21 {
    // Interleaved, so the three share whatever else the machine is doing.
    for (number, (_, plan)) in plans.enumerated() {
        let (rate, count) = measureOnce(plan)
        samples[number].append(rate)
        changes[number] = count
    }
}
for (number, (name, _)) in plans.enumerated() {
    let median = samples[number].sorted()[samples[number].count / 2]
    print(name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%7.1f MB/s  (%d changes)", median, changes[number]))
}
