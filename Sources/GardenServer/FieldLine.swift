#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One header field line of an HTTP/1 head, checked (RFC 9112 §5): where its name ends
/// (the colon) and where its value lies without the whitespace around it. The same
/// checks for the browser's requests (`RequestHeadParser`) and the real host's answers
/// (`UpstreamResponseDecoder`): no obsolete line folding, a token for a name right
/// before the colon, no control character in the value.
struct FieldLine {
    /// Why a line is not a field line; the words are the request parser's 400 reasons.
    enum Problem: Error, CustomStringConvertible {
        case folded
        case noColon
        case invalidName
        case controlCharacter

        var description: String {
            switch self {
            case .folded: "obsolete line folding is not accepted"
            case .noColon: "a header line has no field name and colon"
            case .invalidName: "a header field name holds an invalid character"
            case .controlCharacter: "a header value holds a control character"
            }
        }
    }

    var colon: Int
    var value: Range<Int>

    /// Checks the line `start..<end` of `bytes` (its CRLF or LF not included). Inlined
    /// into both parsers: it runs for every field of every request and answer, and as a
    /// call it measured about 1% more instructions per request.
    @inline(__always)
    static func check(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Result<FieldLine, Problem> {
        if bytes[start] == .space || bytes[start] == .tab { return .failure(.folded) }
        guard let colon = bytes.index(of: .colon, from: start, to: end), colon > start else { return .failure(.noColon) }
        for index in start..<colon where !bytes[index].isTokenCharacter {
            return .failure(.invalidName)
        }
        let value = bytes.trimmingWhitespace(colon + 1..<end)
        guard !bytes.hasControlCharacter(in: value) else { return .failure(.controlCharacter) }
        return .success(FieldLine(colon: colon, value: value))
    }
}

extension UnsafeRawBufferPointer {
    /// The index of the first `byte` in `start..<end` (the end of the bytes if nil), or
    /// nil: `memchr`, which looks at many bytes per step.
    func index(of byte: UInt8, from start: Int, to end: Int? = nil) -> Int? {
        let end = end ?? count
        guard start < end, let base = baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), end - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The index just past the blank line that ends a head, looking from `start`; nil if
    /// the bytes hold no head end yet. LF alone ends a line as CRLF does (RFC 9112 §2.2).
    func headEnd(from start: Int) -> Int? {
        var index = start
        while let lf = self.index(of: .lf, from: index) {
            if lf + 1 < count, self[lf + 1] == .lf { return lf + 2 }
            if lf + 2 < count, self[lf + 1] == .cr, self[lf + 2] == .lf { return lf + 3 }
            index = lf + 1
        }
        return nil
    }

    /// `range` without the spaces and tabs at either end (optional whitespace, RFC 9110 §5.6.3).
    func trimmingWhitespace(_ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound
        var end = range.upperBound
        while start < end, self[start] == .space || self[start] == .tab { start += 1 }
        while end > start, self[end - 1] == .space || self[end - 1] == .tab { end -= 1 }
        return start..<end
    }

    /// Whether `range` holds a control character other than a tab (or DEL).
    func hasControlCharacter(in range: Range<Int>) -> Bool {
        for index in range {
            let byte = self[index]
            if (byte < 0x20 && byte != .tab) || byte == 0x7F { return true }
        }
        return false
    }
}

/// The items of a comma-separated field value (RFC 9110 §5.6.1), each without the
/// whitespace around it, as views of the value: `split` would allocate an array per
/// field. Empty items are skipped unless `keepingEmpty`.
struct FieldValueItems: Sequence, IteratorProtocol {
    private let value: UnsafeRawBufferPointer
    private let keepingEmpty: Bool
    private var start = 0
    private var done = false

    init(_ value: UnsafeRawBufferPointer, keepingEmpty: Bool = false) {
        self.value = value
        self.keepingEmpty = keepingEmpty
    }

    mutating func next() -> UnsafeRawBufferPointer? {
        while !done {
            let end = value.index(of: UInt8(ascii: ","), from: start) ?? value.count
            let item = UnsafeRawBufferPointer(rebasing: value[value.trimmingWhitespace(start..<end)])
            if end == value.count { done = true } else { start = end + 1 }
            if keepingEmpty || !item.isEmpty { return item }
        }
        return nil
    }
}
