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
}
