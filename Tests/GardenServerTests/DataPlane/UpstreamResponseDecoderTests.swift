import GardenFuzzing
@testable import GardenServer
import NIOCore
import Testing

/// The real host's answers read by `UpstreamResponseDecoder`: framing (RFC 9112 §6.3),
/// keep-alive, the refusals, and the same answer however the bytes are cut into reads.
@Suite struct UpstreamResponseDecoderTests {
    /// What the decoder made of some bytes: the head, the body's bytes, whether the
    /// answer ended, or the failure.
    struct Reading: Equatable, CustomStringConvertible {
        var status: Int?
        var keepAlive: Bool?
        var contentLength: Int?
        var fields: [String] = []
        var body: [UInt8] = []
        var ended = false
        var failure: UpstreamResponseDecoder.Failure?

        var description: String {
            "status \(status.map(String.init) ?? "-"), keepAlive \(keepAlive.map(String.init) ?? "-"), body \(String(decoding: body, as: UTF8.self).debugDescription), ended \(ended), failure \(failure.map(String.init(describing:)) ?? "-")"
        }
    }

    /// Feeds `text` in reads cut at `cuts`, then the connection's close if `closes`.
    static func read(_ text: String, toHEAD: Bool = false, cuts: [Int] = [], closes: Bool = false) -> Reading {
        read(Array(text.utf8), toHEAD: toHEAD, cuts: cuts, closes: closes)
    }

    static func read(_ bytes: [UInt8], toHEAD: Bool = false, cuts: [Int] = [], closes: Bool = false) -> Reading {
        var decoder = UpstreamResponseDecoder()
        decoder.expectAnswer(toHEAD: toHEAD)
        var reading = Reading()
        func take(_ part: UpstreamResponseDecoder.Part) {
            switch part {
            case .head(let head):
                reading.status = head.status
                reading.keepAlive = head.keepAlive
                reading.contentLength = head.contentLength
                reading.fields = head.fieldPairs.map { "\($0.name): \($0.value)" }
            case .body(let bytes):
                reading.body += bytes.readableBytesView
            case .end:
                reading.ended = true
            }
        }
        var received = ByteBuffer()
        var start = 0
        do {
            for end in cuts.filter({ $0 > 0 && $0 < bytes.count }) + [bytes.count] where end >= start {
                received.writeBytes(bytes[start..<end])
                start = end
                while !reading.ended, let part = try decoder.next(from: &received) { take(part) }
            }
            if closes, let part = try decoder.inputClosed() { take(part) }
        } catch {
            reading.failure = error
        }
        return reading
    }

    static let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n"
        + "5\r\nhello\r\n6;name=value\r\n world\r\nA\r\n, and more\r\n0\r\nX-Trailer: dropped\r\n\r\n"

    /// (what, bytes, to HEAD, closed after, status, keep-alive, body)
    static let framings: [(String, String, Bool, Bool, Int, Bool, String)] = [
        ("Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\n\r\nhello", false, false, 200, true, "hello"),
        ("chunked, with extensions and trailers", chunked, false, false, 200, true, "hello world, and more"),
        ("until close", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", false, true, 200, false, "all of it"),
        ("HTTP/1.0, no keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false, 200, false, "ok"),
        ("HTTP/1.0 kept alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", false, false, 200, true, "ok"),
        ("Connection: close", "HTTP/1.1 200 OK\r\nConnection: x, close\r\nContent-Length: 2\r\n\r\nok", false, false, 200, false, "ok"),
        ("HEAD: no body whatever the length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, false, 200, true, ""),
        ("204: no body", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", false, false, 204, true, ""),
        ("304: no body", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false, false, 304, true, ""),
        ("1xx answers skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", false, false, 201, true, "x"),
        ("empty length", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, false, 200, true, ""),
        ("a list of equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\ncontent-length: 3\r\n\r\nabc", false, false, 200, true, "abc"),
        ("gzip not chunked: until close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", false, true, 200, false, "zz"),
        ("bare LF line ends in the head", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false, false, 200, true, "ok"),
        ("no reason phrase", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", false, false, 404, true, ""),
        ("a chunk extension after whitespace (BWS, RFC 9112 §7.1.1; llhttp refuses it)", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 ;a=b\r\nok\r\n0\r\n\r\n", false, false, 200, true, "ok"),
        ("HTTP/1.0 chunked: read, not kept", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false, false, 200, false, "ok"),
    ]

    @Test(arguments: framings)
    func theBodyIsFramedAsRFC9112Says(
        what: String, text: String, toHEAD: Bool, closes: Bool, status: Int, keepAlive: Bool, body: String
    ) {
        let reading = Self.read(text, toHEAD: toHEAD, closes: closes)
        #expect(reading.failure == nil, "\(what)")
        #expect(reading.status == status, "\(what)")
        #expect(reading.keepAlive == keepAlive, "\(what)")
        #expect(String(decoding: reading.body, as: UTF8.self) == body, "\(what)")
        #expect(reading.ended, "\(what)")
    }

    @Test(arguments: framings)
    func everyCutIntoTwoReadsAndOneByteAtATimeReadsTheSame(
        what: String, text: String, toHEAD: Bool, closes: Bool, status: Int, keepAlive: Bool, body: String
    ) {
        let whole = Self.read(text, toHEAD: toHEAD, closes: closes)
        for cut in 1..<text.utf8.count {
            let twoReads = Self.read(text, toHEAD: toHEAD, cuts: [cut], closes: closes)
            #expect(twoReads == whole, "\(what), cut at \(cut)")
        }
        #expect(Self.read(text, toHEAD: toHEAD, cuts: Array(1..<text.utf8.count), closes: closes) == whole, "\(what), byte by byte")
    }

    /// SwiftNIO's decoder (llhttp), which this one replaced, frames every answer of the
    /// table that it accepts alike; the fuzz target checks the same on any bytes.
    @Test(arguments: framings)
    func llhttpReadsTheAnswersItAcceptsAlike(
        what: String, text: String, toHEAD: Bool, closes: Bool, status: Int, keepAlive: Bool, body: String
    ) {
        let ours = Self.read(text, toHEAD: toHEAD, closes: closes)
        let oracle = LLHTTPOracle.read(Array(text.utf8)[...], toHEAD: toHEAD)
        let plain = ["Content-Length", "chunked, with extensions and trailers", "until close", "HEAD: no body whatever the length"]
        if plain.contains(what) { #expect(oracle != nil, "llhttp refused \(what)") }
        guard let oracle else { return }
        #expect(oracle == LLHTTPOracle.Reading(status: ours.status ?? 0, fields: ours.fields, body: ours.body, ended: ours.ended), "\(what)")
    }

    @Test func theFieldsAreKeptAsTheyCameWithoutTheirWhitespace() {
        let reading = Self.read("HTTP/1.1 200 OK\r\nX-A:  spaced\t \r\nSet-Cookie: a=1\r\nset-cookie:b=2\r\nContent-Length: 0\r\n\r\n")
        #expect(reading.fields == ["X-A: spaced", "Set-Cookie: a=1", "set-cookie: b=2", "Content-Length: 0"])
        var decoder = UpstreamResponseDecoder()
        decoder.expectAnswer(toHEAD: false)
        var bytes = ByteBuffer(string: "HTTP/1.1 200 Fine\r\nContent-Type: Text/HTML; charset=utf-8\r\nDate: x\r\nContent-Length: 0\r\n\r\n")
        guard case .head(let head) = try? decoder.next(from: &bytes) else {
            Issue.record("no head")
            return
        }
        #expect(head.reasonPhrase == "Fine")
        #expect(head.value(of: "content-type") == "Text/HTML; charset=utf-8")
        #expect(head.value(of: "content-encoding") == nil)
        #expect(head.contains("date") && !head.contains("etag"))
        #expect(head.contentLength == 0)
    }

    /// (what, bytes): each refused, whatever else it holds.
    static let refusals: [(String, String)] = [
        ("both lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        ("lengths that differ", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
        ("a length in a list that differs", "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd"),
        ("a length that is not a number", "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc"),
        ("an empty length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n"),
        ("a chunk size that is not hexadecimal", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n"),
        ("a chunk size line ended by LF alone", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n"),
        ("a chunk's data without its CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n"),
        ("a chunk too large to count", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n"),
        ("whitespace after a chunk size and nothing else", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n"),
        ("an empty element in Transfer-Encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n"),
        ("a tab in Transfer-Encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n"),
        ("a chunk with no size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n"),
        ("obsolete line folding", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        ("whitespace before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"),
        ("a control character in a value", "HTTP/1.1 200 OK\r\nX-A: a\u{1}b\r\nContent-Length: 0\r\n\r\n"),
        ("a bare CR in a value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n"),
        ("HTTP/2 on an HTTP/1 connection", "HTTP/2 200 OK\r\n\r\n"),
        ("a two-digit status", "HTTP/1.1 20 OK\r\n\r\n"),
        ("not HTTP at all", "ICY 200 OK\r\n\r\n"),
        ("a status glued to its reason", "HTTP/1.1 200OK\r\n\r\n"),
        ("101 never asked for", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
    ]

    @Test(arguments: refusals)
    func malformedAnswersAreRefused(what: String, text: String) {
        let reading = Self.read(text, closes: true)
        #expect(reading.failure != nil && reading.failure != .cutShort, "\(what): \(reading)")
        #expect(!reading.ended || reading.failure != nil, "\(what)")
    }

    @Test func aHeadLargerThanTheLimitIsRefusedBeforeItIsWhole() {
        let huge = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: " + String(repeating: "x", count: 1000) + "\r\n", count: 90)
        #expect(Self.read(huge).failure == .headTooLarge)
        let many = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-A: 1\r\n", count: 300) + "\r\n"
        #expect(Self.read(many).failure == .headTooLarge)
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nonly five",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nContent-",
        "",
    ])
    func aConnectionClosedMidAnswerIsCutShort(text: String) {
        #expect(Self.read(text, closes: true).failure == .cutShort)
    }

    @Test func answersFollowOneAnotherOnAKeptConnectionAndUnaskedBytesAreRefused() throws {
        var decoder = UpstreamResponseDecoder()
        var bytes = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
        decoder.expectAnswer(toHEAD: false)
        var parts = 0
        while let _ = try decoder.next(from: &bytes) { parts += 1 }
        #expect(parts == 3 && decoder.isIdle)
        // Nothing asked: nothing may come (a host answering twice, or a stray byte).
        #expect(try decoder.inputClosed() == nil)
        bytes.writeString("HTTP/1.1 204 No Content\r\n\r\n")
        #expect(throws: UpstreamResponseDecoder.Failure.unaskedAnswer) { _ = try decoder.next(from: &bytes) }
        var second = UpstreamResponseDecoder()
        var kept = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
        second.expectAnswer(toHEAD: false)
        while let _ = try second.next(from: &kept) {}
        kept.writeString("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno")
        second.expectAnswer(toHEAD: false)
        guard case .head(let head) = try second.next(from: &kept) else {
            Issue.record("no second head")
            return
        }
        #expect(head.status == 404)
    }

    @Test func bodyPartsAreSlicesOfTheReceivedBytesNotCopies() throws {
        var decoder = UpstreamResponseDecoder()
        decoder.expectAnswer(toHEAD: false)
        var bytes = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody")
        _ = try decoder.next(from: &bytes)
        guard case .body(let body) = try decoder.next(from: &bytes) else {
            Issue.record("no body")
            return
        }
        let bodyBase = body.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let receivedEnd = bytes.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(bodyBase + 4 == receivedEnd)
    }
}
