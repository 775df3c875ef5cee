import CLibXML2

/// A page's visible text, for the words the censor looks for (`content_keywords`).
extension HTMLInspector {
    /// The text a reader sees of a page (title and body, without scripts and styles),
    /// spaces collapsed: `inspect(html).text`, read for the words the censor looks for in
    /// every page it is asked for from the real web. Read with libxml2's SAX interface, as
    /// events, with no tree built and no error reported: the tree's nodes, and the
    /// formatted error reports, were most of the reading's cost (allocation).
    public static func visibleText(_ html: some Collection<UInt8>) -> String {
        let bytes = Array(html)
        guard !bytes.isEmpty else { return "" }
        let reader = TextReader()
        let context = Unmanaged.passRetained(reader)
        defer { context.release() }
        var handler = htmlSAXHandler()
        handler.startElement = { context, name, _ in TextReader.from(context)?.start(name) }
        handler.endElement = { context, _ in TextReader.from(context)?.end() }
        handler.characters = { context, characters, length in TextReader.from(context)?.text(characters, length) }
        // A comment or a processing instruction ends a text node, as in the tree.
        handler.comment = { context, _ in TextReader.from(context)?.endPiece() }
        handler.processingInstruction = { context, _, _ in TextReader.from(context)?.endPiece() }
        // Script and style content (CDATA) is not text; whitespace the parser calls
        // ignorable is not kept in the tree either.
        garden_xml_silence()
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_NODEFDTD.rawValue)
        guard let parser = htmlCreatePushParserCtxt(&handler, context.toOpaque(), nil, 0, nil, XML_CHAR_ENCODING_UTF8) else { return "" }
        defer { htmlFreeParserCtxt(parser) }
        _ = htmlCtxtUseOptions(parser, options)
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = htmlParseChunk(parser, chars.baseAddress, Int32(clamping: chars.count), 1)
            }
        }
        reader.endPiece()
        return collapsedText(reader.pieces)
    }

    /// Gathers the text nodes a tree of the page would have, outside untouched elements,
    /// from the parser's events.
    private final class TextReader {
        /// The text of each text node, in order.
        var pieces: [String] = []
        /// The text node being read (a node's text may come in several events).
        private var current: [UInt8] = []
        /// For each open element, whether its text is not the page's words.
        private var untouched: [Bool] = []

        static func from(_ context: UnsafeMutableRawPointer?) -> TextReader? {
            context.map { Unmanaged<TextReader>.fromOpaque($0).takeUnretainedValue() }
        }

        func start(_ name: UnsafePointer<xmlChar>?) {
            endPiece()
            untouched.append((untouched.last ?? false) || isUntouched(name))
        }

        func end() {
            endPiece()
            _ = untouched.popLast()
        }

        func text(_ characters: UnsafePointer<xmlChar>?, _ length: Int32) {
            guard let characters, length > 0, untouched.last != true else { return }
            current.append(contentsOf: UnsafeBufferPointer(start: characters, count: Int(length)))
        }

        func endPiece() {
            guard !current.isEmpty else { return }
            pieces.append(String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
        }
    }

    /// Whether an element's text is not the page's words (`HTMLRewriter.untouchedText`:
    /// script, style, ...). (Element names are short: a String of one is not allocated.)
    private static func isUntouched(_ name: UnsafePointer<xmlChar>?) -> Bool {
        guard let name else { return false }
        return HTMLRewriter.untouchedText.contains(String(cString: name))
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
