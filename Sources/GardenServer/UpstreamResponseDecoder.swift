import NIOCore

/// Reads a real host's HTTP/1.x answers (RFC 9112) from the bytes of one connection, one
/// answer per request the garden sent, into a head, body parts and an end.
///
/// In place of SwiftNIO's `HTTPResponseDecoder`, which made a `String` for every field
/// name and value and passed each part through the channel pipeline as a type-erased
/// value: together about a sixth of the instructions of a fetch (issue 16). The body
/// parts are slices of the received buffer, never copies.
///
/// The framing is RFC 9112 §6.3's: no body for an answer to HEAD, a 1xx, 204 or 304;
/// chunked when `chunked` is the final transfer coding; else `Content-Length`; else the
/// body lasts until the host closes (and the connection is not reused). Strict where a
/// difference of reading between the host and the garden could mislead the garden about
/// where one answer ends and the next begins: both `Content-Length` and
/// `Transfer-Encoding`, differing lengths, chunk lines not ended by CRLF, obsolete line
/// folding, control characters and malformed status lines are errors (the fetch gets a
/// 502, or is cut short, and the connection is closed).
package struct UpstreamResponseDecoder: Sendable {
    /// One piece of an answer, in order: a head, its body's parts, an end.
    package enum Part: Sendable {
        case head(UpstreamResponseHead)
        case body(ByteBuffer)
        case end
    }

    /// Why the bytes are not an answer to the request sent.
    package enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// Bytes came with no request outstanding.
        case unaskedAnswer
        /// The bytes break HTTP/1.1's syntax or framing.
        case malformed(String)
        /// The head is larger than the decoder reads.
        case headTooLarge
        /// The host closed the connection in the middle of an answer (or before one).
        case cutShort

        package var description: String {
            switch self {
            case .unaskedAnswer: "the host sent an answer nobody asked for"
            case .malformed(let what): "the host's answer is malformed: \(what)"
            case .headTooLarge: "the host's answer head is too large"
            case .cutShort: "the host closed the connection in the middle of an answer"
            }
        }
    }

    private enum State: Sendable {
        /// No request outstanding: bytes now are an error.
        case idle
        case head(toHEAD: Bool)
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        /// The CRLF after a chunk's data.
        case chunkEnd
        /// The trailer section after the last chunk, and how many of its bytes were read.
        case trailers(read: Int)
        case untilClose
        /// The answer is over: `.end` comes next.
        case ending
        case failed
    }

    /// The largest head read (status line, fields and blank line), as SwiftNIO's decoder.
    package var maxHeadBytes = 80 * 1024
    /// The most field lines in one head.
    package var maxFieldCount = 256
    /// The longest chunk-size line (with its extensions), and trailer section.
    private static let maxChunkLineBytes = 4096
    private var state = State.idle
    /// Bytes of a head already known to hold no head end (from an earlier, shorter read).
    private var headScanned = 0

    package init() {}

    /// Whether no answer is under way (and none is expected).
    package var isIdle: Bool {
        if case .idle = state { true } else { false }
    }

    /// A request has gone out: its answer comes next. An answer to HEAD has no body.
    package mutating func expectAnswer(toHEAD: Bool) {
        state = .head(toHEAD: toHEAD)
        headScanned = 0
    }

    /// The next part of the answer from the start of `buffer`, whose bytes it consumes;
    /// nil when `buffer` holds no complete part.
    package mutating func next(from buffer: inout ByteBuffer) throws(Failure) -> Part? {
        do {
            return try step(&buffer)
        } catch {
            state = .failed
            throw error
        }
    }

    /// The host closed the connection: the end of an answer that lasts until then, nil
    /// between answers, an error in the middle of one.
    package mutating func inputClosed() throws(Failure) -> Part? {
        switch state {
        case .idle, .failed:
            return nil
        case .untilClose, .ending:
            state = .idle
            return .end
        default:
            state = .failed
            throw .cutShort
        }
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws(Failure) -> Part? {
        while true {
            switch state {
            case .idle:
                guard buffer.readableBytes == 0 else { throw .unaskedAnswer }
                return nil
            case .failed:
                return nil
            case .ending:
                state = .idle
                return .end
            case .head(let toHEAD):
                guard buffer.readableBytes > 0 else { return nil }
                guard let head = try readHead(&buffer, toHEAD: toHEAD) else { return nil }
                // An interim answer (1xx): the real one follows.
                if head.status < 200 { continue }
                return .head(head)
            case .fixedBody(let remaining):
                guard let (part, left) = Self.bodyPart(&buffer, remaining: remaining) else { return nil }
                state = left == 0 ? .ending : .fixedBody(remaining: left)
                return .body(part)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try readChunkSize(&buffer) else { return nil }
                state = size == 0 ? .trailers(read: 0) : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard let (part, left) = Self.bodyPart(&buffer, remaining: remaining) else { return nil }
                state = left == 0 ? .chunkEnd : .chunkData(remaining: left)
                return .body(part)
            case .chunkEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == UInt16(UInt8.cr) << 8 | UInt16(UInt8.lf) else {
                    throw .malformed("a chunk's data is not followed by CRLF")
                }
                state = .chunkSize
            case .trailers(let read):
                guard let line = Self.lineLength(buffer) else {
                    guard read + buffer.readableBytes <= Self.maxChunkLineBytes else { throw .malformed("the trailer section is too large") }
                    return nil
                }
                // Trailer fields are dropped: the garden has already sent the head.
                buffer.moveReaderIndex(forwardBy: line.length)
                if line.isEmpty {
                    state = .ending
                } else {
                    guard read + line.length <= Self.maxChunkLineBytes else { throw .malformed("the trailer section is too large") }
                    state = .trailers(read: read + line.length)
                }
            }
        }
    }

    /// Up to `remaining` body bytes from the start of `buffer`, as a slice of it, and how
    /// many are left after them; nil when `buffer` is empty.
    private static func bodyPart(_ buffer: inout ByteBuffer, remaining: Int) -> (part: ByteBuffer, left: Int)? {
        guard buffer.readableBytes > 0 else { return nil }
        let taken = min(remaining, buffer.readableBytes)
        return (buffer.readSlice(length: taken)!, remaining - taken)
    }

    /// The length of the line at the start of `buffer` with its LF, and whether it is empty
    /// (CRLF or LF alone); nil if it has no LF yet.
    private static func lineLength(_ buffer: ByteBuffer) -> (length: Int, isEmpty: Bool)? {
        buffer.withUnsafeReadableBytes { bytes in
            guard let lf = bytes.index(of: .lf, from: 0) else { return nil }
            return (lf + 1, lf == 0 || (lf == 1 && bytes[0] == .cr))
        }
    }

    // MARK: - Chunks

    /// `chunk-size [chunk-ext] CRLF` (RFC 9112 §7.1): the size, or nil until the line is whole.
    private func readChunkSize(_ buffer: inout ByteBuffer) throws(Failure) -> Int? {
        let parsed: Result<(size: Int, length: Int), Failure>? = buffer.withUnsafeReadableBytes { bytes in
            guard let lf = bytes.index(of: .lf, from: 0) else {
                return bytes.count > Self.maxChunkLineBytes ? .failure(.malformed("a chunk-size line is too long")) : nil
            }
            guard lf > 0, bytes[lf - 1] == .cr else { return .failure(.malformed("a chunk-size line does not end with CRLF")) }
            let end = lf - 1
            var size = 0
            var index = 0
            while index < end, let digit = Self.hexValue(bytes[index]) {
                guard size <= (Int.max - 15) / 16 else { return .failure(.malformed("a chunk is too large")) }
                size = size * 16 + digit
                index += 1
            }
            guard index > 0 else { return .failure(.malformed("a chunk has no size")) }
            // Extensions (`;name=value`), after optional whitespace, are ignored; whitespace
            // with no extension after it is not the grammar's (nor llhttp's).
            let digitsEnd = index
            while index < end, bytes[index] == .space || bytes[index] == .tab { index += 1 }
            if index == end, index > digitsEnd { return .failure(.malformed("whitespace after a chunk size")) }
            if index < end {
                guard bytes[index] == UInt8(ascii: ";") else { return .failure(.malformed("a chunk size is not hexadecimal")) }
                guard !bytes.hasControlCharacter(in: index..<end) else {
                    return .failure(.malformed("a chunk extension holds a control character"))
                }
            }
            return .success((size, lf + 1))
        }
        switch parsed {
        case nil:
            return nil
        case .failure(let failure):
            throw failure
        case .success(let chunk):
            buffer.moveReaderIndex(forwardBy: chunk.length)
            return chunk.size
        }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    // MARK: - The head

    /// A head from the start of `buffer` (consumed, with the framing of its body set), or
    /// nil until it is whole.
    private mutating func readHead(_ buffer: inout ByteBuffer, toHEAD: Bool) throws(Failure) -> UpstreamResponseHead? {
        let scanFrom = headScanned
        let maxHead = maxHeadBytes
        let maxFields = maxFieldCount
        let found: Result<ParsedHead, Failure>? = buffer.withUnsafeReadableBytes { bytes in
            // Empty lines before an answer (a host's stray CRLF after a body) are skipped.
            var start = 0
            while start < bytes.count, start < 8, bytes[start] == .cr || bytes[start] == .lf { start += 1 }
            guard let headEnd = bytes.headEnd(from: max(start, scanFrom)) else {
                return bytes.count > maxHead ? .failure(.headTooLarge) : nil
            }
            guard headEnd <= maxHead else { return .failure(.headTooLarge) }
            return Self.parseHead(bytes, from: start, to: headEnd, maxFields: maxFields)
        }
        switch found {
        case nil:
            headScanned = max(0, buffer.readableBytes - 3)
            return nil
        case .failure(let failure):
            throw failure
        case .success(let parsed):
            headScanned = 0
            let fieldBytes = buffer.getSlice(at: buffer.readerIndex + parsed.fieldsStart, length: parsed.fieldsLength)!
            buffer.moveReaderIndex(forwardBy: parsed.consumed)
            return try frame(parsed, fieldBytes: fieldBytes, toHEAD: toHEAD)
        }
    }

    /// The head's body framing (RFC 9112 §6.3) and keep-alive, set as the decoder's state.
    private mutating func frame(_ parsed: ParsedHead, fieldBytes: ByteBuffer, toHEAD: Bool) throws(Failure) -> UpstreamResponseHead {
        var head = UpstreamResponseHead(
            status: parsed.status, reasonPhrase: parsed.reason, minorVersion: parsed.minorVersion,
            contentLength: parsed.contentLength, keepAlive: false, fieldBytes: fieldBytes, fields: parsed.fields
        )
        var keepAlive = parsed.minorVersion >= 1 ? !parsed.connectionClose : (parsed.connectionKeepAlive && !parsed.connectionClose)
        if parsed.status < 200 {
            // 101 would switch protocols, which the garden never asks for.
            guard parsed.status != 101 else { throw .malformed("101 Switching Protocols was not asked for") }
            state = .head(toHEAD: toHEAD)
            return head
        }
        if toHEAD || parsed.status == 204 || parsed.status == 304 {
            state = .ending
        } else if parsed.hasTransferEncoding {
            guard parsed.contentLength == nil else { throw .malformed("both Content-Length and Transfer-Encoding") }
            if parsed.chunkedIsFinal {
                state = .chunkSize
                // An HTTP/1.0 answer may not be chunked (RFC 9112 §6.1): read, but not trusted again.
                if parsed.minorVersion == 0 { keepAlive = false }
            } else {
                state = .untilClose
                keepAlive = false
            }
        } else if let length = parsed.contentLength {
            state = length == 0 ? .ending : .fixedBody(remaining: length)
        } else {
            state = .untilClose
            keepAlive = false
        }
        head.keepAlive = keepAlive
        return head
    }
}
