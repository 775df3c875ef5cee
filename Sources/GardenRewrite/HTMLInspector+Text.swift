import CLibXML2

/// A page's visible text, for the words the censor looks for (`content_keywords`).
extension HTMLInspector {
    /// The text a reader sees of a page (title and body, without scripts and styles),
    /// spaces collapsed: `inspect(html).text` without the references and the parser's
    /// problems, which the censor, reading every page it is asked for from the real web,
    /// does not need; libxml2 is asked not to report its errors at all (each report was
    /// formatted and kept: more allocation than the reading).
    public static func visibleText(_ html: some Collection<UInt8>) -> String {
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_NODEFDTD.rawValue)
        guard let document = parse(Array(html), options: options) else { return "" }
        defer { xmlFreeDoc(document) }
        var pieces: [String] = []
        walk(xmlDocGetRootElement(document)) { node, untouched in
            if let words = wordsText(node, untouched: untouched) { pieces.append(words) }
        }
        return collapsedText(pieces)
    }

    /// `pieces` joined by single spaces, every run of whitespace one space and none at
    /// either end: what `pieces.joined(separator: " ").split(whereSeparator:
    /// \.isWhitespace).joined(separator: " ")` gives, without its cost. That walked the
    /// text by Character (grapheme breaking, a Unicode property look-up per character)
    /// and was most of the time the censor took to read a page from the real web (issue
    /// 16). Here the text is walked by scalar: whitespace is Unicode's White_Space list,
    /// and scalars that would join a whitespace character (combining marks after a space)
    /// go with it, as they went with its Character.
    static func collapsedText(_ pieces: [String]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pieces.reduce(0) { $0 + $1.utf8.count + 1 })
        // Whether a space is owed before the next word; whether the last scalar was
        // whitespace (the space joining two pieces counts; there is none before the first).
        var spaceOwed = false
        var afterWhitespace = false
        for (index, piece) in pieces.enumerated() {
            if index > 0 { (spaceOwed, afterWhitespace) = (true, true) }
            for scalar in piece.unicodeScalars {
                if isWhiteSpace(scalar) {
                    (spaceOwed, afterWhitespace) = (true, true)
                    continue
                }
                if afterWhitespace, extendsCharacter(scalar) { continue }
                if spaceOwed, !bytes.isEmpty { bytes.append(UInt8(ascii: " ")) }
                (spaceOwed, afterWhitespace) = (false, false)
                if scalar.isASCII {
                    bytes.append(UInt8(scalar.value))
                } else if let encoded = UTF8.encode(scalar) {
                    bytes.append(contentsOf: encoded)
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Unicode's White_Space property (`Character.isWhitespace` of a character that starts
    /// with the scalar), by value.
    private static func isWhiteSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// Whether `scalar` continues the character before it rather than starting one
    /// (extending marks, spacing marks, the zero-width joiner). Below U+0300 and for
    /// Hangul syllables, never: the properties are looked up only for the rare rest.
    private static func extendsCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x300 || (0xAC00...0xD7A3).contains(scalar.value) { return false }
        let properties = scalar.properties
        return properties.isGraphemeExtend || properties.generalCategory == .spacingMark || scalar.value == 0x200D
            || (0x1F3FB...0x1F3FF).contains(scalar.value)
    }
}
