/// Matching straight on UTF-8 bytes, for the rewriter's hot path: no `String`, no scalar
/// arrays, and nothing allocated for text that holds no keyword (most text).
///
/// It gives the same answers as the scalar path when every keyword's letters are ASCII
/// or from scripts without case (Hangul, CJK, ...), which makes case folding a matter of
/// ASCII bytes. Otherwise — or for text that NFC would change, or that holds the Kelvin
/// sign (the one non-ASCII scalar whose lower case is ASCII) — it says `.fallback` and the
/// caller takes the scalar path.
extension WordMatcher {
    public enum ByteOutcome {
        case noMatch
        /// The byte path cannot decide this text; use `apply(to:)`.
        case fallback
        case matched(pieces: [Piece], matched: [Keyword])
    }

    /// Keywords as folded UTF-8, by first byte; nil when some keyword has a cased
    /// non-ASCII letter (then only the scalar path is exact).
    struct ByteTable: Sendable {
        /// For each first byte, the keywords (with their bytes) starting with it, longest first.
        var byFirstByte: [[(bytes: [UInt8], keyword: Keyword)]]
        /// Whether any keyword starts with the byte: the scan's one test per byte.
        var starts: [Bool]

        init?(_ keywords: [Keyword]) {
            var table = [[(bytes: [UInt8], keyword: Keyword)]](repeating: [], count: 256)
            for keyword in keywords {
                for scalar in keyword.scalars where !scalar.isASCII {
                    if scalar.properties.changesWhenLowercased || scalar.properties.changesWhenUppercased { return nil }
                }
                var bytes: [UInt8] = []
                for scalar in keyword.scalars { bytes += Array(String(scalar).utf8) }
                table[Int(bytes[0])].append((bytes, keyword))
            }
            starts = table.map { !$0.isEmpty }
            byFirstByte = table.map { list in
                list.enumerated().sorted { a, b in
                    a.element.bytes.count != b.element.bytes.count ? a.element.bytes.count > b.element.bytes.count : a.offset < b.offset
                }.map(\.element)
            }
        }
    }

    @inline(__always)
    static func foldASCII(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Decodes the scalar starting at `index` (nil for a malformed sequence).
    static func scalar(in text: UnsafeBufferPointer<UInt8>, at index: Int) -> (scalar: Unicode.Scalar, length: Int)? {
        let lead = text[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
        guard length > 0, index + length <= text.count else { return nil }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let byte = text[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return Unicode.Scalar(value).map { ($0, length) }
    }

    /// The scalar that ends just before `index`.
    static func scalar(in text: UnsafeBufferPointer<UInt8>, before index: Int) -> Unicode.Scalar? {
        var start = index - 1
        while start > 0, text[start] & 0xC0 == 0x80, index - start < 4 { start -= 1 }
        return scalar(in: text, at: start)?.scalar
    }

    /// The changes for one text node's UTF-8 bytes.
    public func apply(utf8 text: UnsafeBufferPointer<UInt8>) -> ByteOutcome {
        guard let table = byteTable else { return .fallback }
        // First: does any keyword's first byte occur at all? (And is the text byte-safe?)
        var candidate = false
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte < 0x80 {
                if table.starts[Int(Self.foldASCII(byte))] { candidate = true }
                index += 1
                continue
            }
            guard let (scalar, length) = Self.scalar(in: text, at: index) else { return .fallback }
            if scalar.value == 0x212A || Self.mayChangeUnderNFC(scalar) { return .fallback }
            if table.starts[Int(byte)] { candidate = true }
            index += length
        }
        guard candidate else { return .noMatch }

        var pieces: [Piece] = []
        var matched: [Keyword] = []
        var current: [UInt8] = []
        current.reserveCapacity(text.count + 16)
        var position = 0
        // Unchanged bytes are copied in runs, from `runStart` up to the next match.
        var runStart = 0
        while position < text.count {
            let byte = text[position]
            guard byte & 0xC0 != 0x80, table.starts[Int(Self.foldASCII(byte))],
                  let (bytes, keyword) = match(at: position, in: text, table: table)
            else {
                position += 1
                continue
            }
            current.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<position]))
            let end = position + bytes.count
            switch keyword.action {
            case .substitute(let replacement):
                // In the case of the word it replaces (`Oppa` → `Comrade`).
                let word = String(decoding: UnsafeBufferPointer(rebasing: text[position..<end]), as: UTF8.self)
                current.append(contentsOf: Self.inCase(of: word.unicodeScalars, replacement).utf8)
            case .redact:
                let width = String(decoding: UnsafeBufferPointer(rebasing: text[position..<end]), as: UTF8.self).count
                for _ in 0..<width { current += [0xE2, 0x96, 0x88] }  // █
            case .emphasise:
                if !current.isEmpty { pieces.append(Piece(text: String(decoding: current, as: UTF8.self), emphasised: false)) }
                current.removeAll(keepingCapacity: true)
                pieces.append(Piece(text: String(decoding: UnsafeBufferPointer(rebasing: text[position..<end]), as: UTF8.self), emphasised: true))
            }
            matched.append(keyword)
            position = end
            runStart = end
        }
        guard !matched.isEmpty else { return .noMatch }
        current.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<text.count]))
        if !current.isEmpty { pieces.append(Piece(text: String(decoding: current, as: UTF8.self), emphasised: false)) }
        return .matched(pieces: pieces, matched: matched)
    }

    private func match(at position: Int, in text: UnsafeBufferPointer<UInt8>, table: ByteTable) -> ([UInt8], Keyword)? {
        let candidates = table.byFirstByte[Int(Self.foldASCII(text[position]))]
        // The word must start here: nothing of a word just before (checked once a
        // keyword's bytes are seen, as that is rarer than its first letter).
        var startChecked = false
        for (bytes, keyword) in candidates {
            let end = position + bytes.count
            guard end <= text.count else { continue }
            var equal = true
            for offset in 0..<bytes.count where Self.foldASCII(text[position + offset]) != bytes[offset] {
                equal = false
                break
            }
            guard equal else { continue }
            if !startChecked {
                if position > 0, let previous = Self.scalar(in: text, before: position), Self.isWordScalar(previous) { return nil }
                startChecked = true
            }
            if end < text.count, let (next, _) = Self.scalar(in: text, at: end), Self.isWordScalar(next),
               !(keyword.endsInHangul && Self.isHangul(next)) {
                continue
            }
            return (bytes, keyword)
        }
        return nil
    }
}
