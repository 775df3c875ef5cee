import Foundation

/// Where a request is going, read from its request line and `Host` header
/// (the design's request path, step 1).
///
/// - absolute-form (`GET http://friend.com.kp/feed.html`): a proxy request; the URL's
///   host wins over `Host` (RFC 9112 §3.2.2).
/// - authority-form (`CONNECT friend.com.kp:443`): a tunnel request.
/// - origin-form (`GET /feed.html` with `Host: friend.com.kp`): a virtual-host request.
/// - asterisk-form (`OPTIONS *`): about the server itself.
public struct RequestTarget: Sendable, Equatable {
    /// How the request line named its target.
    public enum Form: Sendable, Equatable {
        case origin, absolute, authority, asterisk
    }

    /// Why a request target could not be understood; each is a 400 Bad Request.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case missingHost
        case invalidHost(String)
        case unsupportedScheme(String)
        case userInfoInURL
        case malformedTarget

        public var description: String {
            switch self {
            case .missingHost: "HTTP/1.1 requests need a Host header"
            case .invalidHost(let host): "'\(host)' is not a valid host"
            case .unsupportedScheme(let scheme): "the garden's proxy speaks http only, not '\(scheme)' (use CONNECT for https)"
            case .userInfoInURL: "user names and passwords in URLs are not accepted"
            case .malformedTarget: "the request target is malformed"
            }
        }
    }

    /// How the request line named its target.
    public var form: Form
    /// The host the request is for.
    public var host: HostName
    /// The path and query exactly as sent (still percent-encoded), always starting with `/`;
    /// `*` for asterisk-form and empty for authority-form.
    public var pathAndQuery: String
    /// An absolute-form target with the `https` scheme. The teaching tools read such URLs
    /// as the page they name; the data plane refuses them (a browser asks a proxy for
    /// https pages with CONNECT, and fetching one over http would downgrade it).
    public var isHTTPS: Bool

    public init(form: Form, host: HostName, pathAndQuery: String, isHTTPS: Bool = false) {
        self.form = form
        self.host = host
        self.pathAndQuery = pathAndQuery
        self.isHTTPS = isHTTPS
    }

    /// Reads a target from the request line and the `Host` header values.
    ///
    /// - Parameters:
    ///   - method: the request method, e.g. `GET` or `CONNECT`.
    ///   - uri: the request target exactly as in the request line.
    ///   - host: the `Host` header's value, if any (the caller refuses duplicates).
    ///   - requiresHost: true for HTTP/1.1, where a missing `Host` is an error.
    public static func parse(
        method: String, uri: String, host hostHeader: String?, requiresHost: Bool
    ) -> Result<RequestTarget, Problem> {
        if method == "CONNECT" {
            // authority-form must carry an explicit port.
            guard let host = HostName(authority: uri), host.port != nil else {
                return .failure(.invalidHost(uri))
            }
            return .success(RequestTarget(form: .authority, host: host, pathAndQuery: ""))
        }
        if uri.utf8.first == UInt8(ascii: "/") {
            guard let hostHeader else {
                return requiresHost
                    ? .failure(.missingHost)
                    : .success(RequestTarget(form: .origin, host: HostName(name: "localhost"), pathAndQuery: uri))
            }
            guard let host = HostName(authority: hostHeader) else { return .failure(.invalidHost(hostHeader)) }
            return .success(RequestTarget(form: .origin, host: host, pathAndQuery: uri))
        }
        if uri == "*" {
            let host = hostHeader.flatMap { HostName(authority: $0) } ?? HostName(name: "localhost")
            return .success(RequestTarget(form: .asterisk, host: host, pathAndQuery: "*"))
        }
        // Scanned as bytes: the delimiters are ASCII (RFC 3986), and Foundation's
        // `range(of:)` and Character iteration cost a sixth of a proxied request.
        let utf8 = uri.utf8
        guard let schemeEnd = Self.firstSchemeSeparator(in: utf8) else { return .failure(.malformedTarget) }
        let schemeBytes = utf8[utf8.startIndex..<schemeEnd]
        let isHTTPS: Bool
        if Self.equalsIgnoringASCIICase(schemeBytes, "http") {
            isHTTPS = false
        } else if Self.equalsIgnoringASCIICase(schemeBytes, "https") {
            isHTTPS = true
        } else {
            return .failure(.unsupportedScheme(uri[..<schemeEnd].lowercased()))
        }
        let afterScheme = utf8.index(schemeEnd, offsetBy: 3)
        let authorityEnd = utf8[afterScheme...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? utf8.endIndex
        let authority = uri[afterScheme..<authorityEnd]
        guard !authority.utf8.contains(UInt8(ascii: "@")) else { return .failure(.userInfoInURL) }
        guard let host = HostName(authority: authority) else { return .failure(.invalidHost(String(authority))) }
        let fragment = utf8[authorityEnd...].firstIndex(of: UInt8(ascii: "#")) ?? utf8.endIndex
        var rest = String(uri[authorityEnd..<fragment])
        if rest.utf8.first != UInt8(ascii: "/") { rest = "/" + rest }
        return .success(RequestTarget(form: .absolute, host: host, pathAndQuery: rest, isHTTPS: isHTTPS))
    }

    /// Where the first `://` in `utf8` begins.
    private static func firstSchemeSeparator(in utf8: String.UTF8View) -> String.Index? {
        var index = utf8.startIndex
        while let colon = utf8[index...].firstIndex(of: UInt8(ascii: ":")) {
            let rest = utf8[utf8.index(after: colon)...]
            if rest.starts(with: "//".utf8) { return colon }
            index = utf8.index(after: colon)
        }
        return nil
    }

    /// Whether `bytes` spell `word` (lowercase ASCII) in any case.
    private static func equalsIgnoringASCIICase(_ bytes: Substring.UTF8View, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        return word.withUTF8Buffer { expected in
            zip(bytes, expected).allSatisfy { byte, lower in
                byte == lower || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") && byte | 0x20 == lower)
            }
        }
    }
}
