import GardenSites
import Testing

/// Ranges, validators, dates and media types: RFC 9110's rules as pure functions.
@Suite struct HTTPSemanticsTests {
    @Test(arguments: [
        (nil, 10, ByteRange.whole),
        ("bytes=0-4", 10, .partial(0...4)),
        ("bytes=5-", 10, .partial(5...9)),
        ("bytes=-3", 10, .partial(7...9)),
        ("bytes=-30", 10, .partial(0...9)),
        ("bytes=8-100", 10, .partial(8...9)),
        ("bytes=99999999999999999999-", 10, .unsatisfiable),
        ("bytes=-99999999999999999999", 10, .partial(0...9)),
        (" bytes=1-2 ", 10, .partial(1...2)),
        ("BYTES=1-2", 10, .partial(1...2)),
        ("bytes=10-", 10, .unsatisfiable),
        ("bytes=-0", 10, .unsatisfiable),
        ("bytes=0-0", 0, .unsatisfiable),
        ("bytes=-5", 0, .unsatisfiable),
        ("bytes=3-1", 10, .whole),
        ("bytes=1-2,4-5", 10, .whole),
        ("bytes=", 10, .whole),
        ("bytes=-", 10, .whole),
        ("bytes=a-b", 10, .whole),
        ("lines=1-2", 10, .whole),
    ] as [(String?, Int, ByteRange)])
    func byteRanges(header: String?, length: Int, expected: ByteRange) {
        #expect(ByteRange.resolve(header, length: length) == expected)
    }

    static let file = StaticFile(bytes: Array("hello".utf8), fileName: "a.html", lastModified: 1_700_000_000)

    /// Whether a file is a page the censor reads and the rewriter rewrites, by its media type.
    @Test(arguments: [
        ("a.html", true), ("b.htm", true), ("c.css", false), ("d.js", false), ("e.svg", false), ("f.txt", false),
    ] as [(String, Bool)])
    func htmlIsKnownByItsMediaType(fileName: String, isHTML: Bool) {
        let file = StaticFile(bytes: Array("x".utf8), fileName: fileName, lastModified: 1)
        #expect(file.isHTML == isHTML)
        #expect(file.isHTML == file.contentType.hasPrefix("text/html"))
        #expect(file.privateCopy().isHTML == isHTML)
    }

    @Test func etagsAreStrongAndContentBased() {
        let same = StaticFile(bytes: Array("hello".utf8), fileName: "b.html", lastModified: 1)
        let other = StaticFile(bytes: Array("hellp".utf8), fileName: "a.html", lastModified: 1_700_000_000)
        #expect(Self.file.etag.hasPrefix("\"5-"))
        #expect(Self.file.etag == same.etag)
        #expect(Self.file.etag != other.etag)
    }

    @Test func notModifiedRules() {
        let etag = Self.file.etag
        let date = HTTPDate.format(1_700_000_000)
        #expect(Preconditions.isNotModified(ifNoneMatch: [etag], ifModifiedSince: nil, file: Self.file))
        #expect(Preconditions.isNotModified(ifNoneMatch: ["W/\(etag)"], ifModifiedSince: nil, file: Self.file))
        #expect(Preconditions.isNotModified(ifNoneMatch: ["\"x\", \(etag)"], ifModifiedSince: nil, file: Self.file))
        #expect(Preconditions.isNotModified(ifNoneMatch: ["\"x\"", etag], ifModifiedSince: nil, file: Self.file))
        #expect(Preconditions.isNotModified(ifNoneMatch: ["*"], ifModifiedSince: nil, file: Self.file))
        #expect(!Preconditions.isNotModified(ifNoneMatch: ["\"x\""], ifModifiedSince: date, file: Self.file))
        #expect(Preconditions.isNotModified(ifNoneMatch: [], ifModifiedSince: date, file: Self.file))
        #expect(!Preconditions.isNotModified(ifNoneMatch: [], ifModifiedSince: HTTPDate.format(1_600_000_000), file: Self.file))
        #expect(!Preconditions.isNotModified(ifNoneMatch: [], ifModifiedSince: "not a date", file: Self.file))
        #expect(!Preconditions.isNotModified(ifNoneMatch: [], ifModifiedSince: nil, file: Self.file))
    }

    @Test func ifRangeRules() {
        #expect(Preconditions.rangeApplies(ifRange: nil, file: Self.file))
        #expect(Preconditions.rangeApplies(ifRange: Self.file.etag, file: Self.file))
        #expect(!Preconditions.rangeApplies(ifRange: "W/\(Self.file.etag)", file: Self.file))
        #expect(!Preconditions.rangeApplies(ifRange: "\"other\"", file: Self.file))
        #expect(Preconditions.rangeApplies(ifRange: HTTPDate.format(1_700_000_000), file: Self.file))
        #expect(!Preconditions.rangeApplies(ifRange: HTTPDate.format(1_700_000_001), file: Self.file))
    }

    @Test(arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777),
        ("Sun Nov  6 08:49:37 1994", 784_111_777),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
    ])
    func httpDatesParse(text: String, seconds: Int) {
        #expect(HTTPDate.parse(text) == seconds)
    }

    @Test(arguments: ["", "yesterday", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 PST"])
    func badHTTPDatesAreNil(text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test func httpDatesFormat() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse(HTTPDate.format(1_800_000_000)) == 1_800_000_000)
    }

    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8"),
        ("A.HTML", "text/html; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("logo.svg", "image/svg+xml; charset=utf-8"),
        ("photo.jpeg", "image/jpeg"),
        ("font.woff2", "font/woff2"),
        ("README", "application/octet-stream"),
        (".hidden", "application/octet-stream"),
        ("archive.tar.unknown", "application/octet-stream"),
    ])
    func mediaTypes(name: String, type: String) {
        #expect(MediaType.forFileName(name) == type)
    }
}
