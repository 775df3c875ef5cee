/// A request path decoded once and checked so that it can only ever name a file inside
/// a site's folder.
///
/// Percent-escapes are decoded exactly once (`%252e` stays the literal text `%2e`).
/// Refused with 400 Bad Request: `..` segments, encoded `/` or `\`, raw backslashes,
/// NUL and other control bytes, malformed escapes, and bytes that are not valid UTF-8
/// (which includes overlong forms such as `%c0%af`). `.` and empty segments are dropped,
/// as browsers and nginx do. A name such as `a..b.html` is an ordinary name.
public struct RequestPath: Sendable, Equatable {
    /// Why a path was refused; every case is answered 400.
    public enum Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        case dotDotSegment
        case encodedSeparator
        case backslash
        case controlByte
        case malformedEscape
        case invalidUTF8
        case notAbsolute

        public var description: String {
            switch self {
            case .dotDotSegment: "'..' is not allowed in paths"
            case .encodedSeparator: "encoded '/' or '\\' is not allowed in paths"
            case .backslash: "'\\' is not allowed in paths"
            case .controlByte: "control characters are not allowed in paths"
            case .malformedEscape: "malformed percent-escape in path"
            case .invalidUTF8: "path is not valid UTF-8"
            case .notAbsolute: "path must start with '/'"
            }
        }
    }

    /// The decoded path relative to the site root, without empty and `.` segments,
    /// segments joined by `/`: `/a//./b/` is `a/b`.
    public var relativePath: String
    /// Whether the path ended in `/` (a directory was asked for).
    public var hasTrailingSlash: Bool
    /// The path as sent, still encoded, without the query.
    public var rawPath: Substring
    /// The query including its `?`, or empty.
    public var rawQuery: Substring

    /// The decoded segments: `/a/b/` is `["a", "b"]`. Split on the byte `/`: a `/`
    /// followed by a combining mark is one Swift `Character`, not a separator.
    public var segments: [String] {
        relativePath.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The decoded path re-encoded in canonical form: `/` plus the segments, each
    /// percent-encoded where RFC 3986 requires it, without a trailing slash.
    public var canonicalPath: String {
        "/" + segments.map(Self.encodeSegment).joined(separator: "/")
    }

    /// Percent-encodes a path segment, leaving RFC 3986 `pchar`s as they are.
    public static func encodeSegment(_ segment: String) -> String {
        var encoded = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
                 UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                 UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                 UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                encoded.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return encoded
    }

    /// Decodes and checks the path of a request target (`/a%20b/c.html?x=1`).
    /// Concrete, not generic, so that callers in other modules get the specialised code.
    public static func parse(_ target: String) -> Result<RequestPath, Rejection> {
        let target = Substring(target)
        // UTF-8 indices throughout: this runs per request, and Character operations are slow.
        let queryStart = target.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? target.endIndex
        let rawPath = target[..<queryStart]
        var rawQuery = target[queryStart...]
        if let fragment = rawQuery.utf8.firstIndex(of: UInt8(ascii: "#")) { rawQuery = rawQuery[..<fragment] }
        guard rawPath.utf8.first == UInt8(ascii: "/") else { return .failure(.notAbsolute) }

        if let simple = simplePath(rawPath) {
            return .success(RequestPath(
                relativePath: simple.relative, hasTrailingSlash: simple.trailingSlash, rawPath: rawPath, rawQuery: rawQuery
            ))
        }
        // Decode into one scratch buffer, segment after segment, and make one String at
        // the end: this runs for every request, so it allocates once.
        let decoded = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: rawPath.utf8.count) { decode(rawPath, into: $0) }
        return decoded.map { RequestPath(relativePath: $0.relative, hasTrailingSlash: $0.trailingSlash, rawPath: rawPath, rawQuery: rawQuery) }
    }

    /// Percent-decodes `rawPath` into `buffer`, dropping empty and `.` segments; refuses
    /// `..`, backslashes, control bytes, encoded separators and malformed UTF-8.
    private static func decode(
        _ rawPath: Substring, into buffer: UnsafeMutableBufferPointer<UInt8>
    ) -> Result<(relative: String, trailingSlash: Bool), Rejection> {
        var path = DecodedPath(buffer: buffer)
        var endedWithSlash = false
        var bytes = rawPath.utf8.makeIterator()
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "/"):
                if let problem = path.finishSegment() { return .failure(problem) }
                endedWithSlash = true
                continue
            case UInt8(ascii: "\\"):
                return .failure(.backslash)
            case 0..<0x20, 0x7F:
                return .failure(.controlByte)
            case UInt8(ascii: "%"):
                guard let high = bytes.next().flatMap(hexValue), let low = bytes.next().flatMap(hexValue) else {
                    return .failure(.malformedEscape)
                }
                let value = high << 4 | low
                switch value {
                case UInt8(ascii: "/"), UInt8(ascii: "\\"): return .failure(.encodedSeparator)
                case 0..<0x20, 0x7F: return .failure(.controlByte)
                default: path.append(value)
                }
            default:
                path.append(byte)
            }
            endedWithSlash = false
        }
        if let problem = path.finishSegment() { return .failure(problem) }
        // '/' is ASCII, so validating the whole path validates every segment.
        guard let relativePath = String(validating: UnsafeBufferPointer(rebasing: buffer[0..<path.count]), as: UTF8.self) else {
            return .failure(.invalidUTF8)
        }
        return .success((relativePath, endedWithSlash))
    }

    /// A decoded path being built in a scratch buffer, one segment after another, joined by `/`.
    private struct DecodedPath {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0
        var segmentStart = 0
        var inSegment = false

        /// Ends the segment being built: "." is dropped, ".." refused.
        mutating func finishSegment() -> Rejection? {
            guard inSegment else { return nil }
            inSegment = false
            let length = count - segmentStart
            if length == 1, buffer[segmentStart] == UInt8(ascii: ".") {
                // "." names the folder itself: drop it and the separator before it.
                count = segmentStart > 0 ? segmentStart - 1 : 0
            } else if length == 2, buffer[segmentStart] == UInt8(ascii: "."), buffer[segmentStart + 1] == UInt8(ascii: ".") {
                return .dotDotSegment
            }
            return nil
        }

        mutating func append(_ byte: UInt8) {
            if !inSegment {
                if count > 0 {
                    buffer[count] = UInt8(ascii: "/")
                    count += 1
                }
                segmentStart = count
                inSegment = true
            }
            buffer[count] = byte
            count += 1
        }
    }

    /// The common case without decoding: only unreserved ASCII, no escapes, no empty,
    /// `.` or `..` segments. Then the relative path is the raw path without its slashes
    /// at either end. Anything else returns nil and takes the full path.
    private static func simplePath(_ rawPath: Substring) -> (relative: String, trailingSlash: Bool)? {
        // Scanned through the string's own bytes: iterating a `Substring.UTF8View` pays
        // an index check per byte.
        if let simple = rawPath.utf8.withContiguousStorageIfAvailable(simplePath) { return simple }
        var copy = String(rawPath)
        return copy.withUTF8(simplePath)
    }

    private static func simplePath(_ bytes: UnsafeBufferPointer<UInt8>) -> (relative: String, trailingSlash: Bool)? {
        var segmentLength = 0
        var segmentIsDots = true
        var previousWasSlash = false
        for index in 1..<max(bytes.count, 1) {
            switch bytes[index] {
            case UInt8(ascii: "/"):
                // An empty, "." or ".." segment needs the full treatment.
                if segmentLength == 0 || (segmentIsDots && segmentLength <= 2) { return nil }
                segmentLength = 0
                segmentIsDots = true
                previousWasSlash = true
                continue
            case UInt8(ascii: "."):
                break
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                segmentIsDots = false
            default:
                return nil
            }
            segmentLength += 1
            previousWasSlash = false
        }
        if segmentLength > 0, segmentIsDots, segmentLength <= 2 { return nil }
        // The bytes between the leading slash and a trailing one (ASCII: any cut is whole).
        let relativeEnd = previousWasSlash ? bytes.count - 1 : bytes.count
        let relative = relativeEnd > 1 ? String(decoding: UnsafeBufferPointer(rebasing: bytes[1..<relativeEnd]), as: UTF8.self) : ""
        return (relative, previousWasSlash || bytes.count == 1)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
