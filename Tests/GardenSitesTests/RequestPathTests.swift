import GardenSites
import Testing

/// Decoding request paths once and refusing anything that could leave a site's folder.
@Suite struct RequestPathTests {
    @Test(arguments: [
        ("/", [], true),
        ("/index.html", ["index.html"], false),
        ("/a/b/", ["a", "b"], true),
        ("//a///b", ["a", "b"], false),
        ("/./a/./b/.", ["a", "b"], false),
        ("/a%20b.html", ["a b.html"], false),
        ("/%ED%95%9C%EA%B8%80", ["한글"], false),
        ("/a..b.html", ["a..b.html"], false),
        ("/...", ["..."], false),
        ("/%252e%252e/x", ["%2e%2e", "x"], false),
        ("/p?q=../../x", ["p"], false),
        ("/p#../../x", ["p"], false),
    ] as [(String, [String], Bool)])
    func acceptedPaths(raw: String, segments: [String], trailingSlash: Bool) throws {
        let path = try RequestPath.parse(raw).get()
        #expect(path.segments == segments)
        #expect(path.hasTrailingSlash == trailingSlash)
    }

    /// The fast path for plain paths and the full decoder give the same path: each plain
    /// path against a spelling of it that only the decoder takes (a `.` segment, a doubled
    /// slash, an escaped letter).
    @Test(arguments: [
        ("/", "/./"),
        ("/index.html", "/./index.html"),
        ("/a/b/", "/a//b/"),
        ("/a/b", "/a/%62"),
        ("/news/2026-11-30_x~y.html", "/news/./2026-11-30_x~y.html"),
        ("/a...", "//a..."),
        ("/.well-known/x", "/.well-known/./x"),
    ] as [(String, String)])
    func plainPathsReadAsTheDecoderReadsThem(plain: String, decoded: String) throws {
        let fast = try RequestPath.parse(plain).get()
        let full = try RequestPath.parse(decoded).get()
        #expect(fast.relativePath == full.relativePath)
        #expect(fast.hasTrailingSlash == full.hasTrailingSlash)
    }

    @Test(arguments: [
        ("/..", RequestPath.Rejection.dotDotSegment),
        ("/a/../b", .dotDotSegment),
        ("/%2e%2e/b", .dotDotSegment),
        ("/.%2E/b", .dotDotSegment),
        ("/a%2fb", .encodedSeparator),
        ("/a%2Fb", .encodedSeparator),
        ("/a%5cb", .encodedSeparator),
        ("/a\\b", .backslash),
        ("/a%00b", .controlByte),
        ("/a%0d%0ab", .controlByte),
        ("/a%7f", .controlByte),
        ("/a\u{1}b", .controlByte),
        ("/%", .malformedEscape),
        ("/%4", .malformedEscape),
        ("/%zz", .malformedEscape),
        ("/%c0%af", .invalidUTF8),
        ("/%c0%ae%c0%ae/x", .invalidUTF8),
        ("/%e0%80%ae", .invalidUTF8),
        ("/%ff", .invalidUTF8),
        ("/%ed%a0%80", .invalidUTF8),
        ("a/b", .notAbsolute),
        ("", .notAbsolute),
    ])
    func refusedPaths(raw: String, rejection: RequestPath.Rejection) {
        #expect(throws: rejection) { try RequestPath.parse(raw).get() }
    }

    @Test(arguments: [
        ("/a b/c", "/a%20b/c"),
        ("/한", "/%ED%95%9C"),
        ("//evil.example/x", "/evil.example/x"),
        ("/a%3Fb", "/a%3Fb"),
    ])
    func canonicalPathsAreReencoded(raw: String, canonical: String) throws {
        #expect(try RequestPath.parse(raw).get().canonicalPath == canonical)
    }
}
