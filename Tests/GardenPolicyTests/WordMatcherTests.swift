import Foundation
import GardenPolicy
import Testing

/// The rewriter's byte-level matching gives exactly the answers of the scalar path, or
/// steps aside (`.fallback`) where it could not.
@Suite struct WordMatcherTests {
    static let fragments = [
        "oppa", "OPPA", "Oppa", "oppas", "xoppa", "오빠", "오빠가", "김오빠", "freedom", "Freedom!", "자유", "leader", "the Leader",
        " ", " ", ", ", ".", "\n", "é", "naïve", "Straße", "ŉ", "\u{212A}im", "e\u{0301}", "\u{1112}\u{1161}\u{11AB}", "한", "_", "9",
        "kim", "KIM", "Kim's", "🙂", "漢字", "ß",
    ]
    static let keywordSets: [(substitutions: [(String, String)], redactions: [String], emphasis: [String])] = [
        ([("oppa", "comrade"), ("오빠", "동지")], ["freedom", "자유"], ["leader", "kim"]),
        ([("한", "조선")], [], ["the leader"]),
        ([("café", "tea")], ["straße"], []),  // cased non-ASCII letters: the byte path steps aside
    ]

    @Test(arguments: 0..<3)
    func bytesAndScalarsAgree(set: Int) {
        let keywords = Self.keywordSets[set]
        let matcher = WordMatcher(substitutions: keywords.substitutions, redactions: keywords.redactions, emphasis: keywords.emphasis)
        var generator = RuleIndexTests.SeededGenerator(state: UInt64(set + 7))
        var byteAnswers = 0
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 1...12, using: &generator)).map { _ in Self.fragments.randomElement(using: &generator)! }.joined()
            var copy = text
            let outcome = copy.withUTF8 { matcher.apply(utf8: $0) }
            let scalar = matcher.apply(to: text)
            switch outcome {
            case .fallback:
                continue
            case .noMatch:
                byteAnswers += 1
                #expect(scalar == nil, "\(text)")
            case .matched(let pieces, let matched):
                byteAnswers += 1
                #expect(pieces == scalar?.pieces, "\(text)")
                #expect(matched.map(\.word) == scalar?.matched.map(\.0.word), "\(text)")
            }
        }
        // The byte path answers most text, unless a keyword has cased non-ASCII letters.
        if set < 2 { #expect(byteAnswers > 1000) } else { #expect(byteAnswers == 0) }
    }

    @Test func wordsInTextUseEitherPath() {
        let matcher = WordMatcher(finding: ["drama", "드라마"])
        #expect(matcher.words(in: "A new DRAMA: 드라마가 좋다") == ["drama", "드라마"])
        #expect(matcher.words(in: "dramatic e\u{0301}") == [])
    }
}

/// A substitution keeps the case of the word it replaces, on both paths.
@Suite struct SubstitutionCaseTests {
    @Test(arguments: [
        ("oppa came home", "comrade came home"),
        ("Oppa came home", "Comrade came home"),
        ("OPPA CAME HOME", "COMRADE CAME HOME"),
        ("Élan, oppa!", "Élan, comrade!"),
        ("오빠 왔어요", "동지 왔어요"),
    ])
    func theReplacementTakesTheWordsCase(text: String, expected: String) {
        let matcher = WordMatcher(substitutions: [("oppa", "comrade"), ("오빠", "동지")], redactions: [], emphasis: [])
        let viaString = matcher.apply(to: text)?.pieces.map(\.text).joined()
        #expect(viaString == expected)
        let viaBytes: String? = Array(text.utf8).withUnsafeBufferPointer { bytes in
            switch matcher.apply(utf8: bytes) {
            case .matched(let pieces, _): pieces.map(\.text).joined()
            case .fallback: matcher.apply(to: text)?.pieces.map(\.text).joined()
            case .noMatch: nil
            }
        }
        #expect(viaBytes == expected)
    }
}
