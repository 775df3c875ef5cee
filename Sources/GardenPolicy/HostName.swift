/// A request's host, normalised the way the garden matches sites: ASCII lower case,
/// without port and without a trailing dot.
///
/// Browsers and curl send internationalised names as punycode (`xn--...`), so anything
/// outside the ASCII host alphabet is refused rather than guessed at.
public struct HostName: Sendable, Hashable, CustomStringConvertible {
    /// The name (`friend.com.kp`) or IP literal (`127.0.0.1`, `::1` without brackets).
    public var name: String
    /// The port written after the name, if any.
    public var port: Int?
    /// Whether `name` is an IPv4 or IPv6 literal rather than a DNS name.
    public var isIPLiteral: Bool

    public var description: String { name }

    /// Parses a `Host` header value or a URL authority (`host[:port]`, `[v6][:port]`).
    /// Returns nil for anything that is not a valid host.
    public init?(authority: some StringProtocol) {
        var text = Substring(authority)
        var port: Int?
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let literal = text[text.index(after: text.startIndex)..<close]
            guard Self.isIPv6(literal) else { return nil }
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":", let parsed = Self.port(rest.dropFirst()) else { return nil }
                port = parsed
            }
            self.init(name: literal.lowercased(), port: port, isIPLiteral: true)
            return
        }
        if let colon = text.lastIndex(of: ":") {
            guard let parsed = Self.port(text[text.index(after: colon)...]) else { return nil }
            port = parsed
            text = text[..<colon]
        }
        if text.last == "." { text = text.dropLast() }
        guard !text.isEmpty, text.utf8.count <= 253 else { return nil }
        var lowered = ""
        lowered.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                lowered.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                lowered.unicodeScalars.append(Unicode.Scalar(byte + 32))
            default:
                return nil
            }
        }
        // Empty labels ("a..b", ".a") and labels that start or end with '-' are not host names.
        for label in lowered.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.first != "-", label.last != "-" else { return nil }
        }
        self.init(name: lowered, port: port, isIPLiteral: Self.isIPv4(lowered))
    }

    /// A host from its parts, as already normalised.
    public init(name: String, port: Int? = nil, isIPLiteral: Bool = false) {
        self.name = name
        self.port = port
        self.isIPLiteral = isIPLiteral
    }

    private static func port(_ digits: Substring) -> Int? {
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy(\.isASCIIDigit),
              let value = Int(digits), value <= 65535 else { return nil }
        return value
    }

    static func isIPv4(_ text: some StringProtocol) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255
        }
    }

    static func isIPv6(_ text: some StringProtocol) -> Bool {
        guard text.contains(":"), text.utf8.count <= 45 else { return false }
        return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
