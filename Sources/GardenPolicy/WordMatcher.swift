import Foundation

/// Finds words in text and says how to change them: substitution, redaction, emphasis
/// (the rewriter), or only which occur (`content_keywords`).
///
/// Matching is on Unicode scalars after NFC normalisation, ignoring case (each scalar's
/// simple lower-case mapping), for whole words: a match may not begin or end inside a
/// word. Korean is the exception at a word's end: particles attach to nouns (오빠가,
/// 오빠를), so a word ending in Hangul matches as the start of a longer word too.
public struct WordMatcher: Sendable {
    public enum Action: Sendable, Equatable {
        case substitute(String)
        case redact
        case emphasise
    }

    public struct Keyword: Sendable {
        /// The word as configured, for reports.
        public let word: String
        let scalars: [Unicode.Scalar]
        public let action: Action
        let endsInHangul: Bool
    }

    /// Keywords by their first (lower-cased) scalar, longest first.
    private let byFirst: [Unicode.Scalar: [Keyword]]
    /// One bit per Basic Multilingual Plane scalar that starts a keyword: most text has
    /// none of them, and a bit test is far cheaper than a dictionary lookup.
    private let firstScalars: [UInt64]
    /// The keywords as bytes, for `apply(utf8:)`; nil when only the scalar path is exact.
    let byteTable: ByteTable?

    public init(substitutions: [(String, String)], redactions: [String], emphasis: [String]) {
        var keywords: [Keyword] = []
        func add(_ word: String, _ action: Action) {
            let scalars = Self.folded(Self.nfc(word))
            guard !scalars.isEmpty else { return }
            keywords.append(Keyword(word: word, scalars: scalars, action: action, endsInHangul: Self.isHangul(scalars.last!)))
        }
        // Redaction wins over substitution over emphasis when the same word is listed twice.
        for word in redactions { add(word, .redact) }
        for (word, replacement) in substitutions { add(word, .substitute(Self.nfc(replacement))) }
        for name in emphasis { add(name, .emphasise) }
        var byFirst: [Unicode.Scalar: [Keyword]] = [:]
        var bits = [UInt64](repeating: 0, count: 1024)
        for keyword in keywords {
            byFirst[keyword.scalars[0], default: []].append(keyword)
            let value = keyword.scalars[0].value
            if value < 65536 { bits[Int(value >> 6)] |= 1 << UInt64(value & 63) }
        }
        self.firstScalars = bits
        self.byteTable = ByteTable(keywords)
        self.byFirst = byFirst.mapValues { list in list.enumerated().sorted { a, b in
            a.element.scalars.count != b.element.scalars.count ? a.element.scalars.count > b.element.scalars.count : a.offset < b.offset
        }.map(\.element) }
    }

    public var isEmpty: Bool { byFirst.isEmpty }

    /// A matcher that only finds words (for `content_keywords`).
    public init(finding words: [String]) {
        self.init(substitutions: [], redactions: [], emphasis: words)
    }

    /// The configured words that occur in `text`, as configured.
    public func words(in text: String) -> Set<String> {
        var text = text
        let outcome = text.withUTF8 { apply(utf8: $0) }
        switch outcome {
        case .noMatch: return []
        case .matched(_, let matched): return Set(matched.map(\.word))
        case .fallback:
            guard let (_, matched) = apply(to: text) else { return [] }
            return Set(matched.map(\.0.word))
        }
    }

    /// A piece of changed text: plain, or emphasised (to be wrapped in an element).
    public struct Piece: Equatable, Sendable {
        public var text: String
        public var emphasised: Bool
    }

    /// `replacement` in the case of the word it replaces: `Oppa` at a sentence's start
    /// becomes `Comrade`, `OPPA` becomes `COMRADE`; otherwise as written in the rule.
    static func inCase(of original: some Collection<Unicode.Scalar>, _ replacement: String) -> String {
        let letters = original.filter { $0.properties.isCased }
        guard let first = letters.first, first.properties.isUppercase else { return replacement }
        if letters.count > 1, letters.allSatisfy({ $0.properties.isUppercase }) { return replacement.uppercased() }
        guard let head = replacement.first else { return replacement }
        return head.uppercased() + replacement.dropFirst()
    }

    /// The text in pieces after the changes, with what was changed; nil when nothing matched.
    public func apply(to text: String) -> (pieces: [Piece], matched: [(Keyword, Int)])? {
        // Most text holds no keyword's first letter at all: say so without building anything.
        guard text.unicodeScalars.contains(where: { mayStartKeyword(Self.fold($0)) })
            || text.unicodeScalars.contains(where: { Self.mayChangeUnderNFC($0) })
        else { return nil }
        let source = Self.nfc(text)
        let scalars = Array(source.unicodeScalars)
        let lowered = scalars.map(Self.fold)
        var pieces: [Piece] = []
        var current = String.UnicodeScalarView()
        var matched: [(Keyword, Int)] = []
        var index = 0
        var changed = false
        while index < scalars.count {
            if let keyword = match(at: index, in: lowered, original: scalars) {
                changed = true
                let end = index + keyword.scalars.count
                switch keyword.action {
                case .substitute(let replacement):
                    current.append(contentsOf: Self.inCase(of: scalars[index..<end], replacement).unicodeScalars)
                case .redact:
                    // One block per character, so the length still shows: the censor's black bar.
                    let width = String(String.UnicodeScalarView(scalars[index..<end])).count
                    current.append(contentsOf: String(repeating: "█", count: width).unicodeScalars)
                case .emphasise:
                    if !current.isEmpty { pieces.append(Piece(text: String(current), emphasised: false)) }
                    current = String.UnicodeScalarView()
                    pieces.append(Piece(text: String(String.UnicodeScalarView(scalars[index..<end])), emphasised: true))
                }
                matched.append((keyword, index))
                index = end
            } else {
                current.append(scalars[index])
                index += 1
            }
        }
        guard changed else { return nil }
        if !current.isEmpty { pieces.append(Piece(text: String(current), emphasised: false)) }
        return (pieces, matched)
    }

    @inline(__always)
    private func mayStartKeyword(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value >= 65536 { return byFirst[scalar] != nil }
        return firstScalars[Int(value >> 6)] & (1 << UInt64(value & 63)) != 0
    }

    private func match(at index: Int, in lowered: [Unicode.Scalar], original: [Unicode.Scalar]) -> Keyword? {
        guard mayStartKeyword(lowered[index]), let candidates = byFirst[lowered[index]] else { return nil }
        if index > 0, Self.isWordScalar(original[index - 1]) { return nil }
        for keyword in candidates {
            let end = index + keyword.scalars.count
            guard end <= lowered.count, lowered[index..<end].elementsEqual(keyword.scalars) else { continue }
            if end < original.count, Self.isWordScalar(original[end]), !(keyword.endsInHangul && Self.isHangul(original[end])) {
                continue
            }
            return keyword
        }
        return nil
    }

    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) || value == 0x5F
        }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "_"
    }

    static func isHangul(_ scalar: Unicode.Scalar) -> Bool {
        (0xAC00...0xD7A3).contains(scalar.value) || (0x1100...0x11FF).contains(scalar.value) || (0x3130...0x318F).contains(scalar.value)
    }

    /// The scalar's simple lower-case form (itself when the mapping is not one scalar).
    @inline(__always)
    static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        let value = scalar.value
        if value < 0x80 {
            return value >= 0x41 && value <= 0x5A ? Unicode.Scalar(UInt8(value + 32)) : scalar
        }
        // Scripts without case (Hangul, CJK, kana) and punctuation: no lookup needed.
        if (0x2000...0x2BFF).contains(value) || (0x3000...0xD7FF).contains(value) || !scalar.properties.changesWhenLowercased {
            return scalar
        }
        let mapping = scalar.properties.lowercaseMapping.unicodeScalars
        return mapping.count == 1 ? mapping.first! : scalar
    }

    static func folded(_ text: String) -> [Unicode.Scalar] { text.unicodeScalars.map(fold) }

    /// NFC, computed only when the text could change under it (combining marks or
    /// conjoining Hangul jamo); everything else is already NFC.
    static func nfc(_ text: String) -> String {
        text.unicodeScalars.contains(where: mayChangeUnderNFC) ? text.precomposedStringWithCanonicalMapping : text
    }

    /// Whether a scalar can be changed by NFC: a combining mark or a conjoining jamo.
    /// ASCII, precomposed Hangul and CJK never are, and are most of the garden's text.
    @inline(__always)
    static func mayChangeUnderNFC(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x300 || (0xAC00...0xD7A3).contains(value) || (0x3000...0x9FFF).contains(value) { return false }
        return (0x1100...0x11FF).contains(value) || scalar.properties.canonicalCombiningClass != .notReordered
    }
}
