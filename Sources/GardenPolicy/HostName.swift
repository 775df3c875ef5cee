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
    ///
    /// Works on UTF-8 bytes: it runs for every request, and Character-level string
    /// operations (grapheme breaking) cost more than everything else here together.
    /// Concrete, not generic: a generic initialiser called from another module runs
    /// unspecialised, through witness tables, several times slower.
    public init?(authority: Substring) {
        var authority = authority
        guard let parsed = authority.withUTF8(Self.parse) else { return nil }
        self = parsed
    }

    /// Parses a `Host` header value or a URL authority; see `init?(authority: Substring)`.
    public init?(authority: String) {
        var authority = authority
        guard let parsed = authority.withUTF8(Self.parse) else { return nil }
        self = parsed
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> HostName? {
        var end = bytes.count
        var port: Int?
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return nil }
            let literal = bytes[1..<close]
            // An IPv6 address, strictly (RFC 3986's IP-literal; IPvFuture and zone
            // identifiers are not accepted): `[::::::]` is no host.
            guard literal.count <= 45, literal.contains(UInt8(ascii: ":")),
                  literal.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }),
                  IPAddressRange.parseAddress(String(decoding: literal, as: UTF8.self))?.count == 16
            else { return nil }
            if close + 1 < bytes.count {
                guard bytes[close + 1] == UInt8(ascii: ":"), let parsed = Self.port(bytes[(close + 2)...]) else { return nil }
                port = parsed
            }
            let name = String(unsafeUninitializedCapacity: literal.count) { buffer in
                for (offset, byte) in literal.enumerated() { buffer[offset] = lowercased(byte) }
                return literal.count
            }
            return HostName(name: name, port: port, isIPLiteral: true)
        }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
            guard let parsed = Self.port(bytes[(colon + 1)...]) else { return nil }
            port = parsed
            end = colon
        }
        if end > 0, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end > 0, end <= 253 else { return nil }

        // One pass: validate labels, lower-case, and see whether it is a dotted quad.
        var labelStart = 0
        var dots = 0
        var allDigitsAndDots = true
        var valid = true
        let name = String(unsafeUninitializedCapacity: end) { buffer in
            for index in 0..<end {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "."):
                    // Empty labels ("a..b", ".a") and labels that start or end with '-' are not host names.
                    if index == labelStart || bytes[index - 1] == UInt8(ascii: "-") { valid = false }
                    dots += 1
                    labelStart = index + 1
                case UInt8(ascii: "-"):
                    if index == labelStart { valid = false }
                    allDigitsAndDots = false
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    break
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
                    allDigitsAndDots = false
                default:
                    valid = false
                }
                buffer[index] = lowercased(byte)
            }
            return end
        }
        // The last label may not be empty either: one trailing dot (the root) was taken off
        // above, so `a..` is `a.` here, and no host (found by the request-target fuzzer).
        guard valid, labelStart < end, bytes[end - 1] != UInt8(ascii: "-") else { return nil }
        let isIPv4 = allDigitsAndDots && dots == 3 && isIPv4(name)
        return HostName(name: name, port: port, isIPLiteral: isIPv4)
    }

    private static func port(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard !digits.isEmpty, digits.count <= 5 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value <= 65535 ? value : nil
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    /// A host from its parts, as already normalised.
    public init(name: String, port: Int? = nil, isIPLiteral: Bool = false) {
        self.name = name
        self.port = port
        self.isIPLiteral = isIPLiteral
    }

    static func isIPv4(_ text: some StringProtocol) -> Bool {
        // Over the UTF-8 bytes (every proxy request for an address passes here).
        var parts = 0
        var digits = 0
        var value = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, value <= 255 else { return false }
                parts += 1
                (digits, value) = (0, 0)
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                digits += 1
                guard digits <= 3 else { return false }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            } else {
                return false
            }
        }
        return parts == 3 && digits > 0 && value <= 255
    }

    static func isIPv6(_ text: some StringProtocol) -> Bool {
        guard text.contains(":"), text.utf8.count <= 45 else { return false }
        return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
