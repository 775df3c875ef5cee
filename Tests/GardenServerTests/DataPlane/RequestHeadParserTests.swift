@testable import GardenAudit
@testable import GardenServer
import Testing

/// The request-head parser on its own: what it accepts, what it refuses and with which
/// status, and how it waits for the rest of a head.
@Suite(.stopsWhatItStarts) struct RequestHeadParserTests {
    static let parser = RequestHeadParser(maxURIBytes: 64, maxHeaderBytes: 256)

    static func parse(_ text: String, scanFrom: Int = 0) -> RequestHeadParser.Outcome {
        Array(text.utf8).withUnsafeBytes { parser.parse($0, scanFrom: scanFrom) }
    }

    static func head(_ text: String) throws -> RequestHead {
        guard case .head(let head, _) = parse(text) else {
            Issue.record("no head in \(text.debugDescription): \(parse(text))")
            throw CancellationError()
        }
        return head
    }

    @Test func readsTheFieldsTheGardenUses() throws {
        let head = try Self.head(
            "GET /a?b HTTP/1.1\r\nHost: Friend.com.kp\r\nIf-None-Match: \"x\"\r\nif-none-match: \"y\"\r\n"
                + "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nRANGE: bytes=0-1\r\nIf-Range: \"x\"\r\n"
                + "X-Other:   spaced value  \r\nConnection: Keep-Alive, Upgrade\r\n\r\n"
        )
        #expect(head.method == .get)
        #expect(head.target == "/a?b")
        #expect(head.minorVersion == 1)
        #expect(head.host == "Friend.com.kp")
        #expect(head.ifNoneMatch == ["\"x\"", "\"y\""])
        #expect(head.ifModifiedSince == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(head.range == "bytes=0-1")
        #expect(head.ifRange == "\"x\"")
        #expect(head.connectionKeepAlive && !head.connectionClose)
        #expect(!head.hasBody)
        #expect(head.keepsAlive)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        ("GET / HTTP/1.9\r\n\r\n", true),
    ])
    func keepAlive(request: String, keepsAlive: Bool) throws {
        #expect(try Self.head(request).keepsAlive == keepsAlive)
    }

    @Test(arguments: [
        ("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", true),
        ("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nContent-Length: 000\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", true),
        ("GET / HTTP/1.1\r\n\r\n", false),
    ])
    func bodiesAreNoticed(request: String, hasBody: Bool) throws {
        #expect(try Self.head(request).hasBody == hasBody)
    }

    @Test(arguments: [
        ("GET", RequestHead.Method.get), ("HEAD", .head), ("CONNECT", .connect), ("POST", .other("POST")),
        ("get", .other("get")),
    ])
    func methods(name: String, method: RequestHead.Method) throws {
        #expect(try Self.head("\(name) / HTTP/1.1\r\n\r\n").method == method)
    }

    @Test func leadingEmptyLinesAndBareLineFeedsAreAccepted() throws {
        let head = try Self.head("\r\n\r\nGET /x HTTP/1.1\nHost: a\n\n")
        #expect(head.target == "/x")
        #expect(head.host == "a")
    }

    @Test(arguments: [
        "", "GET", "GET / HTTP/1.1", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r",
    ])
    func partialHeadsWait(text: String) {
        #expect(Self.parse(text) == .needMoreData)
    }

    @Test func consumedCountsTheWholeHeadOnly() {
        let first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
        guard case .head(_, let consumed) = Self.parse(first + "GET /2 HTTP/1.1\r\n") else {
            Issue.record("no head")
            return
        }
        #expect(consumed == first.utf8.count)
    }

    @Test func scanFromFindsATerminatorSplitAcrossReads() throws {
        let text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        // The caller had seen all but the last two bytes, and scans from 3 before that.
        guard case .head = Self.parse(text, scanFrom: text.utf8.count - 2 - 3) else {
            Issue.record("terminator across reads was missed")
            return
        }
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", RequestHeadParser.Refusal.badRequest("a header field name holds an invalid character")),
        ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", .badRequest("obsolete line folding is not accepted")),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", .badRequest("a header line has no field name and colon")),
        ("GET / HTTP/1.1\r\n: empty name\r\n\r\n", .badRequest("a header line has no field name and colon")),
        ("GET / HTTP/1.1\r\nX: a\u{0}b\r\n\r\n", .badRequest("a header value holds a control character")),
        ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", .badRequest("a header value holds a control character")),
        ("GET / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", .badRequest("Content-Length is not a number")),
        ("GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .badRequest("two different Content-Length values")),
        ("GET /a b HTTP/1.1\r\n\r\n", .badRequest("the HTTP version is malformed")),
        ("GET /\u{7f} HTTP/1.1\r\n\r\n", .badRequest("the request target holds a character that must be percent-encoded")),
        ("GET /é HTTP/1.1\r\n\r\n", .badRequest("the request target holds a character that must be percent-encoded")),
        ("GET  / HTTP/1.1\r\n\r\n", .badRequest("the request target is empty")),
        ("G(T / HTTP/1.1\r\n\r\n", .badRequest("the method is not a valid token")),
        ("/ HTTP/1.1\r\n\r\n", .badRequest("the method is not a valid token")),
        ("GET /\r\n\r\n", .badRequest("the request line is not 'METHOD target HTTP/1.1'")),
        ("GET / HTTP/1.1 extra\r\n\r\n", .badRequest("the HTTP version is malformed")),
        ("GET / HTTPS/1.1\r\n\r\n", .badRequest("the HTTP version is malformed")),
        ("GET / HTTP/2.0\r\n\r\n", .versionNotSupported),
        ("GET / HTTP/0.9\r\n\r\n", .versionNotSupported),
        ("GET /\(String(repeating: "a", count: 65)) HTTP/1.1\r\n\r\n", .uriTooLong),
        ("GET /\(String(repeating: "a", count: 200))", .uriTooLong),
        ("GET / HTTP/1.1\r\nX: \(String(repeating: "b", count: 300))\r\n\r\n", .headersTooLarge),
        ("GET / HTTP/1.1\r\nX: \(String(repeating: "b", count: 900))", .headersTooLarge),
    ])
    func malformedHeadsAreRefused(text: String, refusal: RequestHeadParser.Refusal) {
        #expect(Self.parse(text) == .refused(refusal))
    }

    @Test func endlessEmptyLinesAreRefused() {
        #expect(Self.parse(String(repeating: "\r\n", count: 100)) == .refused(.badRequest("too many empty lines before the request")))
        #expect(Self.parse(String(repeating: "\r\n", count: 10)) == .needMoreData)
    }

    @Test func tooManyFieldsAreRefused() {
        var parser = RequestHeadParser(maxURIBytes: 64, maxHeaderBytes: 100_000)
        parser.maxHeaderCount = 3
        let text = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
        #expect(Array(text.utf8).withUnsafeBytes { parser.parse($0) } == .refused(.headersTooLarge))
    }
}
