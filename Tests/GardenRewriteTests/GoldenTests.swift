import Foundation
import GardenPolicy
import GardenRewrite
import Testing

/// Golden files: an input page, a rewrite plan, and the exact output expected, kept in
/// `Golden/`. Run with `GARDEN_UPDATE_GOLDEN=1` to write the outputs anew after a
/// deliberate change, then read the diff before committing it.
@Suite struct GoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Hosts a citizen reaches in these cases: the intranet.
    static func intranet(_ host: String) -> Bool { host.hasSuffix(".kp") }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var input: String
        var plan: RewritePlan
        var testDescription: String { name }
    }

    static let outside = "http://kwangmyong.kp/outside.html"

    static let cases: [Case] = {
        var neutralise = RewritePlan(outsidePage: outside)
        neutralise.links = .neutralise
        var remove = RewritePlan(outsidePage: outside)
        remove.links = .remove
        var words = RewritePlan(outsidePage: outside)
        words.substitutions = [.init(word: "oppa", replacement: "comrade"), .init(word: "오빠", replacement: "동지")]
        words.redactions = ["freedom"]
        words.emphasis = ["leader", "Great Leader"]
        var stamped = RewritePlan(outsidePage: outside)
        stamped.watermark = "Viewed by citizen at 2026-11-30 09:00 — every page you see is stamped."
        stamped.bannerHTML = "<div class=\"garden-banner\"><b>국가망</b> · Read only approved news.</div>"
        var everything = words
        everything.links = .neutralise
        everything.watermark = "stamp"
        return [
            Case(name: "links-neutralised", input: "news", plan: neutralise),
            Case(name: "malformed", input: "malformed", plan: everything),
            Case(name: "links-removed", input: "news", plan: remove),
            Case(name: "words", input: "news", plan: words),
            Case(name: "watermark-and-banner", input: "news", plan: stamped),
        ]
    }()

    @Test(arguments: cases)
    func rewritesMatchTheirGoldenFile(_ golden: Case) throws {
        let input = try Data(contentsOf: Self.folder.appendingPathComponent("\(golden.input).input.html"))
        let page = HTMLRewriter.rewrite(input, plan: golden.plan, isReachable: Self.intranet)
        let output = String(decoding: page.html, as: UTF8.self)
        let expectedFile = Self.folder.appendingPathComponent("\(golden.name).expected.html")
        if ProcessInfo.processInfo.environment["GARDEN_UPDATE_GOLDEN"] != nil {
            try Data(output.utf8).write(to: expectedFile)
        }
        let expected = try String(contentsOf: expectedFile, encoding: .utf8)
        #expect(output == expected)
    }
}
