/// The SSRF guard of the real upstream: addresses the garden never connects to on a
/// visitor's behalf — loopback, private, link-local, CGNAT, multicast, the cloud
/// metadata address, unspecified and reserved ranges, in IPv4 and IPv6 (IPv4-mapped
/// and NAT64 addresses are judged by the IPv4 address inside) — unless an explicit
/// allow-list names them (`upstream: {allow: [...]}`).
///
/// It is asked about every address a name resolves to, after resolution, so a name
/// that points at 127.0.0.1 is caught as surely as the literal.
public struct DestinationGuard: Sendable, Equatable {
    /// Ranges the teacher allows despite the rules above (tests use 127.0.0.1/32).
    public var allowed: [IPAddressRange]

    public init(allowed: [IPAddressRange] = []) {
        self.allowed = allowed
    }

    /// The forbidden ranges, each with the reason given when an address falls in it.
    static let forbidden: [(range: IPAddressRange, reason: String)] = [
        ("0.0.0.0/8", "an unspecified (\"this network\") address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (169.254.169.254 is the cloud metadata service)"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("fc00::/7", "a unique local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("ff00::/8", "a multicast address"),
        ("2001:db8::/32", "a documentation address"),
        ("fec0::/10", "a site-local address"),
    ].map { (IPAddressRange($0.0)!, $0.1) }

    /// Why the garden must not connect to `address` (4 or 16 bytes), or nil when it may.
    public func refusal(for address: [UInt8]) -> String? {
        if allowed.contains(where: { $0.contains(address) }) { return nil }
        // An IPv4 address carried in IPv6 (::ffff:a.b.c.d, 64:ff9b::a.b.c.d) is that address.
        if address.count == 16 {
            let isMapped = address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xFF && address[11] == 0xFF
            let isNAT64 = address[0..<12].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0])
            if isMapped || isNAT64 { return refusal(for: Array(address[12..<16])) }
        }
        for entry in Self.forbidden where entry.range.contains(address) {
            return entry.reason
        }
        return nil
    }
}
