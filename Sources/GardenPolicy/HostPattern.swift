/// A host condition: an exact name (`friend.com.kp`) or every name under a domain
/// (`*.example` matches `news.example` and `a.news.example`, not `example`).
public enum HostPattern: Sendable, Hashable, CustomStringConvertible {
    case exact(String)
    case suffix(String)

    /// Parses a pattern; nil if it is not a host name with an optional leading `*.`.
    public init?(_ text: String) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("*.") {
            let domain = String(lowered.dropFirst(2))
            guard let host = HostName(authority: domain), host.port == nil, host.name == domain else { return nil }
            self = .suffix(domain)
        } else {
            guard let host = HostName(authority: lowered), host.port == nil, host.name == lowered else { return nil }
            self = .exact(lowered)
        }
    }

    /// Whether a normalised host name matches.
    public func matches(_ host: String) -> Bool {
        switch self {
        case .exact(let name): host == name
        case .suffix(let domain): host.hasSuffix("." + domain)
        }
    }

    public var description: String {
        switch self {
        case .exact(let name): name
        case .suffix(let domain): "*.\(domain)"
        }
    }
}

/// A path condition: a prefix (`/news/`) or, with `*`, a glob (`*.html`, `/a/*/b`),
/// where `*` matches any run of characters, `/` included.
public struct PathPattern: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String

    public init?(_ text: String) {
        guard text.utf8.first == UInt8(ascii: "/") || text.utf8.first == UInt8(ascii: "*") else { return nil }
        pattern = text
    }

    /// Whether a request path (without query) matches.
    ///
    /// Compared as bytes, never as Swift `String`s: `String.hasPrefix` compares grapheme
    /// clusters under canonical equivalence, so `/office/` + a combining mark (a request
    /// for `/office/%CC%81x`) would not "start with" `/office/`, and the rule would be
    /// dodged. Found by the request-target fuzzer.
    public func matches(_ path: String) -> Bool {
        guard pattern.utf8.contains(UInt8(ascii: "*")) else { return path.utf8.starts(with: pattern.utf8) }
        return Self.glob(Array(pattern.utf8)[...], Array(path.utf8)[...])
    }

    private static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        // Iterative wildcard matching with backtracking to the last star: linear-ish, no recursion.
        var p = pattern.startIndex, t = text.startIndex
        var star: Int?, mark = text.startIndex
        while t < text.endIndex {
            if p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") {
                star = p
                p += 1
                mark = t
            } else if p < pattern.endIndex, pattern[p] == text[t] {
                p += 1
                t += 1
            } else if let starIndex = star {
                p = starIndex + 1
                mark += 1
                t = mark
            } else {
                return false
            }
        }
        while p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }

    public var description: String { pattern }
}
