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

    /// `HTTP/1.x SP 3DIGIT [SP reason]` and the field lines up to `headEnd`.
    static func parseHead(_ bytes: UnsafeRawBufferPointer, from start: Int, to headEnd: Int, maxFields: Int) -> Result<ParsedHead, Failure> {
        var parsed = ParsedHead()
        // Room for a usual head's fields at once, rather than growing the array field by field.
        parsed.fields.reserveCapacity(16)
        parsed.consumed = headEnd
        let lf = bytes.index(of: .lf, from: start)!
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
            guard !bytes.hasControlCharacter(in: start + 13..<lineEnd) else {
                return .failure(.malformed("the reason phrase holds a control character"))
            }
            parsed.reason = String(decoding: bytes[start + 13..<lineEnd], as: UTF8.self)
        }
        parsed.fieldsStart = lf + 1
        var lineStart = lf + 1
        var fieldsEnd = lineStart
        while lineStart < headEnd {
            let lf = bytes.index(of: .lf, from: lineStart)!
            var lineEnd = lf
            if lineEnd > lineStart, bytes[lineEnd - 1] == .cr { lineEnd -= 1 }
            if lineEnd == lineStart { break }  // the blank line
            guard parsed.fields.count < maxFields else { return .failure(.headTooLarge) }
            let field: FieldLine
            switch FieldLine.check(bytes, from: lineStart, to: lineEnd) {
            case .success(let checked): field = checked
            case .failure(let problem): return .failure(.malformed(problem.description))
            }
            let colon = field.colon
            let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon])
            let value = UnsafeRawBufferPointer(rebasing: bytes[field.value])
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
                valueStart: Int32(field.value.lowerBound - base), valueEnd: Int32(field.value.upperBound - base)
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
            for digits in FieldValueItems(value, keepingEmpty: true) {
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
            for coding in FieldValueItems(value, keepingEmpty: true) {
                guard !coding.isEmpty else { return .malformed("an empty element in Transfer-Encoding") }
                parsed.chunkedIsFinal = coding.equalsIgnoringASCIICase("chunked")
            }
        case 10 where name.equalsIgnoringASCIICase("connection"):
            for option in FieldValueItems(value) {
                if option.equalsIgnoringASCIICase("close") { parsed.connectionClose = true }
                if option.equalsIgnoringASCIICase("keep-alive") { parsed.connectionKeepAlive = true }
            }
        default:
            break
        }
        return nil
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
