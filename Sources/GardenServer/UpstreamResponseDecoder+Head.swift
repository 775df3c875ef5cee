#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading an answer's head: the status line and the field lines, checked, with the
/// fields that frame the body and decide the connection's fate noted on the way.
extension UpstreamResponseDecoder {
    /// What `parseHead` found in a head's bytes.
    struct ParsedHead {
        var status = 0
        var reason = ""
        var minorVersion = 1
        var fieldsStart = 0
        var fieldsLength = 0
        var fields: [UpstreamResponseHead.FieldSpan] = []
        var contentLength: Int?
        var hasTransferEncoding = false
        var chunkedIsFinal = false
        var connectionClose = false
        var connectionKeepAlive = false
        /// The head's bytes, blank line included.
        var consumed = 0
    }

    /// The index just past the blank line that ends the head, or nil.
    static func findHeadEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while let lf = findByte(.lf, in: bytes, from: index) {
            if lf + 1 < bytes.count, bytes[lf + 1] == .lf { return lf + 2 }
            if lf + 2 < bytes.count, bytes[lf + 1] == .cr, bytes[lf + 2] == .lf { return lf + 3 }
            index = lf + 1
        }
        return nil
    }

    static func findByte(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]` and the field lines up to `headEnd`.
    static func parseHead(_ bytes: UnsafeRawBufferPointer, from start: Int, to headEnd: Int, maxFields: Int) -> Result<ParsedHead, Failure> {
        var parsed = ParsedHead()
        // Room for a usual head's fields at once, rather than growing the array field by field.
        parsed.fields.reserveCapacity(16)
        parsed.consumed = headEnd
        let lf = findByte(.lf, in: bytes, from: start)!
        var lineEnd = lf
        if lineEnd > start, bytes[lineEnd - 1] == .cr { lineEnd -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[start..<lineEnd])
        guard line.count >= 12, line.starts(with: "HTTP/1.".utf8), isDigit(line[7]), line[8] == .space,
              isDigit(line[9]), isDigit(line[10]), isDigit(line[11]), line.count == 12 || line[12] == .space
        else {
            return .failure(.malformed("the status line is not 'HTTP/1.1 code reason'"))
        }
        parsed.minorVersion = line[7] == UInt8(ascii: "0") ? 0 : 1
        parsed.status = Int(line[9] - 48) * 100 + Int(line[10] - 48) * 10 + Int(line[11] - 48)
        guard parsed.status >= 100 else { return .failure(.malformed("the status code is not between 100 and 999")) }
        if line.count > 13 {
            let reason = UnsafeRawBufferPointer(rebasing: line[13...])
            for byte in reason where (byte < 0x20 && byte != .tab) || byte == 0x7F {
                return .failure(.malformed("the reason phrase holds a control character"))
            }
            parsed.reason = String(decoding: reason, as: UTF8.self)
        }
        parsed.fieldsStart = lf + 1
        var lineStart = lf + 1
        var fieldsEnd = lineStart
        while lineStart < headEnd {
            let lf = findByte(.lf, in: bytes, from: lineStart)!
            var lineEnd = lf
            if lineEnd > lineStart, bytes[lineEnd - 1] == .cr { lineEnd -= 1 }
            if lineEnd == lineStart { break }  // the blank line
            guard parsed.fields.count < maxFields else { return .failure(.headTooLarge) }
            if bytes[lineStart] == .space || bytes[lineStart] == .tab {
                return .failure(.malformed("obsolete line folding"))
            }
            guard let colon = findByte(.colon, in: bytes, from: lineStart), colon < lineEnd, colon > lineStart else {
                return .failure(.malformed("a header line has no field name and colon"))
            }
            for index in lineStart..<colon where !bytes[index].isTokenCharacter {
                return .failure(.malformed("a header field name holds an invalid character"))
            }
            var valueStart = colon + 1
            var valueEnd = lineEnd
            while valueStart < valueEnd, bytes[valueStart] == .space || bytes[valueStart] == .tab { valueStart += 1 }
            while valueEnd > valueStart, bytes[valueEnd - 1] == .space || bytes[valueEnd - 1] == .tab { valueEnd -= 1 }
            for index in valueStart..<valueEnd {
                let byte = bytes[index]
                if (byte < 0x20 && byte != .tab) || byte == 0x7F {
                    return .failure(.malformed("a header value holds a control character"))
                }
            }
            let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            // A tab anywhere in a Transfer-Encoding line, even as the whitespace around its
            // value, is refused: llhttp does not read "chunked<TAB>" as chunked, this
            // decoder would (fuzzing against llhttp found it), and the body's framing is
            // no place for two readings.
            if name.count == 17, name.equalsIgnoringASCIICase("transfer-encoding"),
               bytes[(colon + 1)..<lineEnd].contains(.tab) {
                return .failure(.malformed("a tab in Transfer-Encoding"))
            }
            if let failure = record(name: name, value: value, into: &parsed) { return .failure(failure) }
            let base = parsed.fieldsStart
            parsed.fields.append(.init(
                nameStart: Int32(lineStart - base), nameEnd: Int32(colon - base),
                valueStart: Int32(valueStart - base), valueEnd: Int32(valueEnd - base)
            ))
            lineStart = lf + 1
            fieldsEnd = lineStart
        }
        parsed.fieldsLength = fieldsEnd - parsed.fieldsStart
        return .success(parsed)
    }

    /// Takes note of the fields that frame the body and the connection's fate.
    static func record(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into parsed: inout ParsedHead) -> Failure? {
        switch name.count {
        case 14 where name.equalsIgnoringASCIICase("content-length"):
            // A list of equal lengths ("42, 42") is one length (RFC 9112 §6.3).
            for item in ListItems(value, keepingEmpty: true) {
                let digits = trimmed(item)
                guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy(isDigit) else {
                    return .malformed("Content-Length is not a number")
                }
                let length = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
                if let earlier = parsed.contentLength, earlier != length { return .malformed("Content-Length values differ") }
                parsed.contentLength = length
            }
        case 17 where name.equalsIgnoringASCIICase("transfer-encoding"):
            parsed.hasTransferEncoding = true
            // Empty elements ("chunked, ,") are refused, though lists may have them: llhttp
            // reads "chunked," as not chunked, and a framing two readers disagree on is
            // how answers get split.
            for item in ListItems(value, keepingEmpty: true) {
                let coding = trimmed(item)
                guard !coding.isEmpty else { return .malformed("an empty element in Transfer-Encoding") }
                parsed.chunkedIsFinal = UnsafeRawBufferPointer(rebasing: coding).equalsIgnoringASCIICase("chunked")
            }
        case 10 where name.equalsIgnoringASCIICase("connection"):
            for item in ListItems(value) {
                let option = UnsafeRawBufferPointer(rebasing: trimmed(item))
                if option.equalsIgnoringASCIICase("close") { parsed.connectionClose = true }
                if option.equalsIgnoringASCIICase("keep-alive") { parsed.connectionKeepAlive = true }
            }
        default:
            break
        }
        return nil
    }

    static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == .space || bytes[start] == .tab { start += 1 }
        while end > start, bytes[end - 1] == .space || bytes[end - 1] == .tab { end -= 1 }
        return bytes[start..<end]
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// The comma-separated items of a field's value (RFC 9110 §5.6.1), as slices of it:
    /// `split` would allocate an array per field.
    struct ListItems: Sequence, IteratorProtocol {
        private let value: UnsafeRawBufferPointer
        private var start = 0
        private var done = false
        private let keepingEmpty: Bool

        init(_ value: UnsafeRawBufferPointer, keepingEmpty: Bool = false) {
            self.value = value
            self.keepingEmpty = keepingEmpty
        }

        mutating func next() -> Slice<UnsafeRawBufferPointer>? {
            while !done {
                let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
                let item = value[start..<end]
                if end == value.endIndex { done = true } else { start = end + 1 }
                if keepingEmpty || !item.isEmpty { return item }
            }
            return nil
        }
    }
}
