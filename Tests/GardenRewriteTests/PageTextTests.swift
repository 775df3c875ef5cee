import Foundation
@testable import GardenRewrite
import Testing

/// The visible text a page's words are looked for in: whitespace collapsed by scalar, as
/// the Character-by-Character formula it replaced did it (that formula is the oracle).
@Suite struct PageTextTests {
    static func byCharacter(_ pieces: [String]) -> String {
        pieces.joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test(arguments: [
        [],
        [""],
        ["   "],
        ["Hello, world"],
        ["  Hello,\n\t world  ", "", "again "],
        ["조선중앙통신", " 김정은 동지께서 ", "현지지도"],
        ["a\u{00A0}b\u{3000}c\u{2003}d\u{2028}e\u{0085}f\u{1680}g\u{202F}h\u{205F}i"],
        ["line\r\nbreak\rand\u{000B}\u{000C}more"],
        ["café ", "\u{0301}accent after a space", " e\u{0301}"],
        ["\u{0301}starts with a mark", "mid \u{0301}\u{0302} marks"],
        ["zero\u{200D}width ", "\u{200D}joiner"],
        ["spacing \u{0903}mark", "emoji 👍🏽 ", "\u{1F3FD}modifier"],
        ["tabs\t\t\tand  spaces", "\n\n", "end\n"],
        ["नमस्ते दुनिया", "  العربية  ", "עברית"],
    ])
    func collapsingMatchesTheCharacterFormula(pieces: [String]) {
        #expect(HTMLInspector.collapsedText(pieces) == Self.byCharacter(pieces))
    }

    /// A page's text, read with libxml2: title and body, no script, spaces collapsed.
    @Test func aPagesTextIsItsVisibleWordsCollapsed() {
        let page = "<html><head><title> The  title </title><script>var hidden = 1;</script></head>"
            + "<body><p>First\n\n paragraph</p><p>\u{00A0}second&nbsp;one </p></body></html>"
        #expect(HTMLInspector.inspect(Array(page.utf8)).text == "The title First paragraph second one")
    }

    /// The censor's reading (`visibleText`, no references, no problems) finds the same
    /// text as the full inspection, on every page of the shipped sites.
    @Test func theCensorsReadingIsTheInspectionsText() throws {
        let sites = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sites").standardized
        let files = FileManager.default.enumerator(at: sites, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        let pages = files.filter { $0.pathExtension == "html" }
        #expect(pages.count > 20)
        for page in pages {
            let bytes = Array(try Data(contentsOf: page))
            #expect(HTMLInspector.visibleText(bytes) == HTMLInspector.inspect(bytes).text, "\(page.lastPathComponent)")
        }
    }

    /// The same on pages made to trip a reader: comments and entities inside words,
    /// unclosed and misnested tags, upper-case names, scripts with markup in them,
    /// untouched elements within untouched ones, processing instructions, stray CDATA.
    @Test(arguments: [
        "foo<!-- a comment -->bar &amp; baz&nbsp;qux &lt;b&gt;",
        "<P>one<P>two<DIV>three</SPAN>four</div><li>five<li>six",
        "<html><head><TITLE>Title</TITLE><STYLE>p { color: red }</STYLE></head><body>body</body></html>",
        "<script>document.write('<p>not text</p>')</script>after<noscript><p>no</p><textarea>x</textarea></noscript>end",
        "<p>a<?php echo 1 ?>b</p><![CDATA[ raw ]]>c<template><p>t</p></template>d",
        "<table><tr><td>cell<td>cell2</table>tail<b><i>bold italic</b> italic?</i>",
        "plain text with no tags at all\n\n  and   spaces",
        "<p>금지된 <b>단어</b>가 있습니다</p><p>\u{00A0}\u{3000}끝</p>",
        "<body><p>unterminated <a href='x'>link",
    ])
    func theCensorsReadingMatchesOnTrickyPages(page: String) {
        let bytes = Array(page.utf8)
        #expect(HTMLInspector.visibleText(bytes) == HTMLInspector.inspect(bytes).text)
    }
}
