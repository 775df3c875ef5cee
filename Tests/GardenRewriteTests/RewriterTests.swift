import Foundation
import GardenPolicy
import GardenRewrite
import Testing

/// The rewriter's rules beyond the golden pages: what counts as a word, what is never
/// touched, what it reports, and that no input — truncated, random, deeply nested —
/// crashes or hangs it.
@Suite struct RewriterTests {
    static func rewrite(_ html: String, _ configure: (inout RewritePlan) -> Void) -> (html: String, page: RewrittenPage) {
        var plan = RewritePlan(outsidePage: "http://portal.kp/outside.html")
        configure(&plan)
        let page = HTMLRewriter.rewrite(Array(html.utf8), plan: plan, isReachable: { $0.hasSuffix(".kp") })
        return (String(decoding: page.html, as: UTF8.self), page)
    }

    @Test(arguments: [
        ("<p>oppa</p>", "<p>comrade</p>"),
        ("<p>Oppa, OPPA!</p>", "<p>Comrade, COMRADE!</p>"),
        ("<p>oppas oppa_ xoppa</p>", "<p>oppas oppa_ xoppa</p>"),     // whole words only
        ("<p>오빠가 오빠를 오빠</p>", "<p>동지가 동지를 동지</p>"),        // Korean particles attach
        ("<p>김오빠</p>", "<p>김오빠</p>"),                             // ... but a word must start there
        ("<p>\u{1112}\u{1161}\u{11AB}</p>", "<p>조선</p>"),              // decomposed 한 (NFD) matches 한
        ("<p>a &lt;oppa&gt; b</p>", "<p>a &lt;comrade&gt; b</p>"),       // entities are text
    ])
    func substitutionsAreWholeWordsIgnoringCase(input: String, expected: String) {
        let (html, _) = Self.rewrite(input) {
            $0.substitutions = [.init(word: "oppa", replacement: "comrade"), .init(word: "오빠", replacement: "동지"), .init(word: "한", replacement: "조선")]
        }
        #expect(html.contains(expected), "\(html)")
    }

    @Test func scriptsStylesAttributesAndCommentsAreNeverTouched() {
        let input = "<html><head><style>.oppa{}</style><script>oppa()</script></head><body>"
            + "<!-- oppa --><p title=\"oppa\">x</p><textarea>oppa</textarea><noscript>oppa</noscript></body></html>"
        let (html, page) = Self.rewrite(input) { $0.substitutions = [.init(word: "oppa", replacement: "comrade")] }
        #expect(!html.contains("comrade"))
        #expect(page.changes.isEmpty)
    }

    @Test func changesAreReported() {
        let (_, page) = Self.rewrite("<p>oppa freedom Leader <a href=\"http://x.example/\">x</a></p>") {
            $0.substitutions = [.init(word: "oppa", replacement: "comrade")]
            $0.redactions = ["freedom"]
            $0.emphasis = ["leader"]
            $0.links = .neutralise
        }
        #expect(page.changes == [
            .substituted(word: "oppa", replacement: "comrade"), .redacted(word: "freedom"), .emphasised(name: "leader"),
            .neutralised(attribute: "href", url: "http://x.example/"),
        ])
        #expect(!page.addedStyle.isEmpty)
    }

    /// Removing the last element inside a `<noscript>` must still end its untouched text.
    @Test(arguments: ["<noscript><img src=\"http://x.example/a.png\"></noscript><p>oppa</p>",
                      "<noscript><a href=\"http://x.example/\">x</a></noscript><p>oppa</p>",
                      "<div><a href=\"http://x.example/\"></a></div><p>oppa</p>"])
    func removedElementsDoNotLoseTheirPlace(input: String) {
        let (html, _) = Self.rewrite(input) {
            $0.links = .remove
            $0.substitutions = [.init(word: "oppa", replacement: "comrade")]
        }
        #expect(html.contains("<p>comrade</p>"), "\(html)")
        #expect(!html.contains("x.example"))
    }

    @Test func redactionKeepsTheLengthOfTheWord() {
        let (html, _) = Self.rewrite("<p>자유 and Freedom</p>") { $0.redactions = ["자유", "freedom"] }
        #expect(html.contains("<p>██ and ███████</p>"))
    }

    @Test func aPageWithNothingToChangeKeepsItsText() {
        let (html, page) = Self.rewrite("<!DOCTYPE html><html><body><p>조선 · Korea &amp; more</p></body></html>") {
            $0.links = .neutralise
        }
        #expect(page.changes.isEmpty)
        #expect(html.contains("<p>조선 · Korea &amp; more</p>"))  // UTF-8 stays UTF-8, not entities
        #expect(page.addedStyle.isEmpty)
    }

    @Test(arguments: [
        ("http://a.example/x", "a.example"), ("HTTPS://A.Example:8443/x", "a.example"), ("//a.example", "a.example"),
        ("http://user:pw@a.example/", "a.example"), ("http://[::1]:80/", "::1"), ("http://a.example./", "a.example"),
    ])
    func linkHostsAreRead(link: String, host: String) {
        var asked: [String] = []
        var plan = RewritePlan(outsidePage: "/outside.html")
        plan.links = .neutralise
        _ = HTMLRewriter.rewrite(Array("<a href=\"\(link)\">x</a>".utf8), plan: plan) { asked.append($0); return true }
        #expect(asked == [host])
    }

    @Test(arguments: ["/local", "page.html", "#top", "mailto:a@b.kp", "javascript:void(0)", "data:text/plain,x", ""])
    func addressesThatStayOnTheSiteAreNotChecked(link: String) {
        var asked = 0
        var plan = RewritePlan(outsidePage: "/outside.html")
        plan.links = .neutralise
        _ = HTMLRewriter.rewrite(Array("<a href=\"\(link)\">x</a>".utf8), plan: plan) { _ in asked += 1; return false }
        #expect(asked == 0)
    }

    // MARK: - Hostile input

    static let fullPlan: RewritePlan = {
        var plan = RewritePlan(outsidePage: "/outside.html")
        plan.links = .remove
        plan.substitutions = [.init(word: "oppa", replacement: "comrade")]
        plan.redactions = ["freedom"]
        plan.emphasis = ["leader"]
        plan.watermark = "stamp"
        plan.bannerHTML = "<p>banner"
        return plan
    }()

    @Test func everyTruncationOfAPageIsHandled() throws {
        let page = try Data(contentsOf: GoldenTests.folder.appendingPathComponent("news.input.html"))
        for length in stride(from: 0, through: page.count, by: 7) {
            let prefix = page.prefix(length)
            let result = HTMLRewriter.rewrite(prefix, plan: Self.fullPlan, isReachable: { $0.hasSuffix(".kp") })
            #expect(length == 0 || !result.html.isEmpty)
            // A cut through the middle of a character is not UTF-8 to begin with.
            if String(validating: prefix, as: UTF8.self) != nil {
                #expect(String(validating: result.html, as: UTF8.self) != nil, "length \(length)")
            }
        }
    }

    @Test func randomBytesAreHandled() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let count = Int.random(in: 0...4096, using: &generator)
            // Half plain noise, half noise made of HTML-ish pieces.
            let bytes: [UInt8] = round.isMultiple(of: 2)
                ? (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
                : Array((0..<count / 8).map { _ in ["<a href=\"http://x.example/\">", "</a>", "<p>", "oppa", "&amp", "<!--", "<script>", "freedom ", "leader", "\u{FFFF}", "<<", "\"'"].randomElement(using: &generator)! }.joined().utf8)
            let result = HTMLRewriter.rewrite(bytes, plan: Self.fullPlan, isReachable: { _ in false })
            #expect(result.html.count < 64 * 1024)
        }
    }

    @Test func deepNestingDoesNotExhaustTheStack() {
        let depth = 20_000
        let html = String(repeating: "<div><a href=\"http://x.example/\">", count: depth) + "oppa" + String(repeating: "</a></div>", count: depth)
        let result = HTMLRewriter.rewrite(Array(html.utf8), plan: Self.fullPlan, isReachable: { _ in false })
        #expect(!result.html.isEmpty)
    }
}
