/// Reads HTTP/1.x request heads (RFC 9112) straight from the received bytes.
///
/// The garden never reads a request body: a request that announces one is answered and
/// its connection closed (see `RequestHead.hasBody`). So a head parser is all the data
/// plane needs, and one that keeps only the fields the garden acts on allocates almost
/// nothing per request, where a general decoder builds a string for every header.
/// Bodies never being parsed also means no request can be smuggled behind one.
///
/// Strict where the RFC lets a server be: whitespace before a field's colon, obsolete
/// line folding, control characters, bare CR and malformed versions are 400s.
package struct RequestHeadParser: Sendable {
    /// Why a head was refused, and with which status.
    package enum Refusal: Error, Equatable, Sendable {
        case badRequest(String)
        case uriTooLong
        case headersTooLarge
        case versionNotSupported
    }

    package enum Outcome: Equatable, Sendable {
        /// The bytes hold no complete head yet.
        case needMoreData
        /// A head, and how many bytes it took (including the blank line).
        case head(RequestHead, consumed: Int)
        case refused(Refusal)
    }

    /// Longest request target accepted (the method and version come on top).
    var maxURIBytes: Int
    /// Largest header section, counted as names + values + 4 per field (": " and CRLF).
    var maxHeaderBytes: Int
    /// Most header fields in one request.
    var maxHeaderCount = 128

    /// (Package-visible for the fuzzer, `Fuzz/`.)
    package init(maxURIBytes: Int, maxHeaderBytes: Int) {
        self.maxURIBytes = maxURIBytes
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Looks for one request head at the start of `bytes`.
    ///
    /// - Parameter scanFrom: bytes already known to hold no head end (from an earlier call
    ///   on a shorter prefix), so a slow client's head is not rescanned from the start.
    package func parse(_ bytes: UnsafeRawBufferPointer, scanFrom: Int = 0) -> Outcome {
        // RFC 9112 §2.2: ignore empty lines before the request line.
        var start = 0
        while start < bytes.count, bytes[start] == .cr || bytes[start] == .lf { start += 1 }
        // ... but not endlessly: they are buffered like any other part of a head.
        if start > maxRequestLineBytes { return .refused(.badRequest("too many empty lines before the request")) }
        if start == bytes.count { return .needMoreData }

        guard let lineEnd = bytes.index(of: .lf, from: start) else {
            return bytes.count - start > maxRequestLineBytes ? .refused(.uriTooLong) : .needMoreData
        }
        guard let headEnd = bytes.headEnd(from: max(lineEnd, scanFrom)) else {
            return bytes.count - lineEnd > maxHeaderSectionBytes ? .refused(.headersTooLarge) : .needMoreData
        }
        switch parseRequestLine(bytes, from: start, to: lineEnd) {
        case .failure(let refusal):
            return .refused(refusal)
        case .success(var head):
            if let refusal = parseFields(bytes, from: lineEnd + 1, to: headEnd, into: &head) {
                return .refused(refusal)
            }
            return .head(head, consumed: headEnd)
        }
    }

    private var maxRequestLineBytes: Int { maxURIBytes + 64 }
    private var maxHeaderSectionBytes: Int { maxHeaderBytes + 2 * maxHeaderCount + 4 }

    /// `method SP request-target SP HTTP-version`, the line ending at `end` (its LF).
    private func parseRequestLine(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Result<RequestHead, Refusal> {
        var lineEnd = end
        if lineEnd > start, bytes[lineEnd - 1] == .cr { lineEnd -= 1 }
        guard let firstSpace = bytes.index(of: .space, from: start), firstSpace < lineEnd, firstSpace > start else {
            return .failure(.badRequest("the request line is not 'METHOD target HTTP/1.1'"))
        }
        for index in start..<firstSpace where !bytes[index].isTokenCharacter {
            return .failure(.badRequest("the method is not a valid token"))
        }
        let targetStart = firstSpace + 1
        guard let secondSpace = bytes.index(of: .space, from: targetStart), secondSpace < lineEnd else {
            return .failure(.badRequest("the request line is not 'METHOD target HTTP/1.1'"))
        }
        guard secondSpace - targetStart <= maxURIBytes else { return .failure(.uriTooLong) }
        guard secondSpace > targetStart else { return .failure(.badRequest("the request target is empty")) }
        for index in targetStart..<secondSpace where bytes[index] <= 0x20 || bytes[index] >= 0x7F {
            return .failure(.badRequest("the request target holds a character that must be percent-encoded"))
        }
        // "HTTP/" DIGIT "." DIGIT
        let version = secondSpace + 1
        guard lineEnd - version == 8,
              bytes[version] == UInt8(ascii: "H"), bytes[version + 1] == UInt8(ascii: "T"),
              bytes[version + 2] == UInt8(ascii: "T"), bytes[version + 3] == UInt8(ascii: "P"),
              bytes[version + 4] == UInt8(ascii: "/"), bytes[version + 6] == UInt8(ascii: "."),
              isDigit(bytes[version + 5]), isDigit(bytes[version + 7])
        else {
            return .failure(.badRequest("the HTTP version is malformed"))
        }
        guard bytes[version + 5] == UInt8(ascii: "1") else { return .failure(.versionNotSupported) }
        // A higher 1.x minor is answered as 1.1 (RFC 9110 §6.2).
        let minor = bytes[version + 7] == UInt8(ascii: "0") ? 0 : 1
        return .success(RequestHead(
            method: RequestHead.Method(UnsafeRawBufferPointer(rebasing: bytes[start..<firstSpace])),
            target: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<secondSpace]), as: UTF8.self),
            minorVersion: minor
        ))
    }

    /// The field lines between the request line and the blank line.
    private func parseFields(_ bytes: UnsafeRawBufferPointer, from start: Int, to headEnd: Int, into head: inout RequestHead) -> Refusal? {
        var lineStart = start
        var count = 0
        var contentLength: Substring?
        while lineStart < headEnd {
            let lf = bytes.index(of: .lf, from: lineStart)!
            var lineEnd = lf
            if lineEnd > lineStart, bytes[lineEnd - 1] == .cr { lineEnd -= 1 }
            if lineEnd == lineStart { break }  // the blank line
            count += 1
            guard count <= maxHeaderCount else { return .headersTooLarge }
            let field: FieldLine
            switch FieldLine.check(bytes, from: lineStart, to: lineEnd) {
            case .success(let checked): field = checked
            case .failure(let problem): return .badRequest(problem.description)
            }
            head.headerBytes += (field.colon - lineStart) + field.value.count + 4
            let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<field.colon])
            let value = UnsafeRawBufferPointer(rebasing: bytes[field.value])
            if let refusal = head.record(name: name, value: value, contentLength: &contentLength) {
                return refusal
            }
            lineStart = lf + 1
        }
        guard head.headerBytes <= maxHeaderBytes else { return .headersTooLarge }
        return nil
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

extension UInt8 {
    /// RFC 9110 `tchar` (the characters of methods and field names), for the request and
    /// answer head parsers both: one bit per ASCII byte in two 64-bit masks.
    var isTokenCharacter: Bool {
        switch self {
        case 0..<64: (0x03FF_6CFA_0000_0000 as UInt64) >> UInt64(self) & 1 == 1
        case 64..<128: (0x57FF_FFFF_C7FF_FFFE as UInt64) >> UInt64(self - 64) & 1 == 1
        default: false
        }
    }

    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
}
