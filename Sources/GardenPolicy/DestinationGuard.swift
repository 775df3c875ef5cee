/// The SSRF guard of the real upstream: addresses the garden never connects to on a
/// visitor's behalf, unless an explicit allow-list names them (`upstream: {allow: [...]}`).
///
/// The table is IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
/// the RFCs each row names), plus the multicast and deprecated site-local spaces: every
/// block that is not globally reachable is refused. The most specific row that holds an
/// address decides (192.0.0.9/32 is reachable inside the unreachable 192.0.0.0/24). IPv6
/// forms that carry an IPv4 address the host would reach (IPv4-mapped, SIIT-translated,
/// the NAT64 well-known prefix) are judged by that address; forms that embed an
/// arbitrary IPv4 address behind a relay (6to4, Teredo, IPv4-compatible) are refused
/// outright. An address the guard cannot read is refused: it fails closed.
///
/// It is asked about every address a name resolves to, after resolution, so a name
/// that points at 127.0.0.1 is caught as surely as the literal.
public struct DestinationGuard: Sendable, Equatable {
    /// Ranges the teacher allows despite the table (tests use 127.0.0.1/32).
    public var allowed: [IPAddressRange]

    public init(allowed: [IPAddressRange] = []) {
        self.allowed = allowed
    }

    /// One row of the table.
    public struct Block: Sendable {
        public let range: IPAddressRange
        /// What the garden says when it refuses an address here ("a loopback address").
        public let reason: String
        /// The registry's name for the block and where it is defined.
        public let source: String
        /// What the garden does with an address in this block.
        public let verdict: Verdict
    }

    /// What a block means for a connection to one of its addresses.
    public enum Verdict: Sendable, Equatable {
        /// Globally reachable: connected to.
        case reachable
        /// Not globally reachable (or not a destination at all): refused.
        case refused
        /// Carries an IPv4 address in its last four bytes, which is judged instead.
        case judgedByEmbeddedIPv4
    }

    /// The table, from IANA's special-purpose registries (as of 2026) and the address
    /// architecture RFCs.
    public static let table: [Block] = rows.map { Block(range: IPAddressRange($0.0)!, reason: $0.1, source: $0.2, verdict: $0.3) }

    /// The table as written: block, reason, source, verdict.
    private static let rows: [(String, String, String, Verdict)] = [
        // IPv4 Special-Purpose Address Registry
        ("0.0.0.0/8", "an unspecified (\"this network\") address", "\"This network\", RFC 791", .refused),
        ("0.0.0.0/32", "an unspecified (\"this network\") address", "\"This host on this network\", RFC 1122", .refused),
        ("10.0.0.0/8", "a private address", "Private-Use, RFC 1918", .refused),
        ("100.64.0.0/10", "a carrier-grade NAT address", "Shared Address Space, RFC 6598", .refused),
        ("127.0.0.0/8", "a loopback address", "Loopback, RFC 1122", .refused),
        ("169.254.0.0/16", "a link-local address (169.254.169.254 is the cloud metadata service)", "Link Local, RFC 3927", .refused),
        ("172.16.0.0/12", "a private address", "Private-Use, RFC 1918", .refused),
        ("192.0.0.0/24", "an IETF protocol address", "IETF Protocol Assignments, RFC 6890", .refused),
        ("192.0.0.0/29", "an IETF protocol address", "IPv4 Service Continuity Prefix, RFC 7335", .refused),
        ("192.0.0.8/32", "an IETF protocol address", "IPv4 dummy address, RFC 7600", .refused),
        ("192.0.0.9/32", "", "Port Control Protocol Anycast, RFC 7723", .reachable),
        ("192.0.0.10/32", "", "Traversal Using Relays around NAT Anycast, RFC 8155", .reachable),
        ("192.0.0.170/32", "an IETF protocol address", "NAT64/DNS64 Discovery, RFC 8880", .refused),
        ("192.0.0.171/32", "an IETF protocol address", "NAT64/DNS64 Discovery, RFC 8880", .refused),
        ("192.0.2.0/24", "a documentation address", "Documentation (TEST-NET-1), RFC 5737", .refused),
        ("192.31.196.0/24", "", "AS112-v4, RFC 7535", .reachable),
        ("192.52.193.0/24", "", "AMT, RFC 7450", .reachable),
        ("192.88.99.0/24", "a deprecated 6to4 relay address", "Deprecated (6to4 Relay Anycast), RFC 7526", .refused),
        ("192.168.0.0/16", "a private address", "Private-Use, RFC 1918", .refused),
        ("192.175.48.0/24", "", "Direct Delegation AS112 Service, RFC 7534", .reachable),
        ("198.18.0.0/15", "a benchmarking address", "Benchmarking, RFC 2544", .refused),
        ("198.51.100.0/24", "a documentation address", "Documentation (TEST-NET-2), RFC 5737", .refused),
        ("203.0.113.0/24", "a documentation address", "Documentation (TEST-NET-3), RFC 5737", .refused),
        ("240.0.0.0/4", "a reserved address", "Reserved, RFC 1112", .refused),
        ("255.255.255.255/32", "the limited broadcast address", "Limited Broadcast, RFC 8190", .refused),
        // IPv4 multicast (the Multicast Address Space registry, RFC 5771)
        ("224.0.0.0/4", "a multicast address", "Multicast, RFC 5771", .refused),
        // The IPv6 Address Space registry: only 2000::/3 is global unicast; the rest is
        // reserved, or special (the rows below), so what no row names is refused.
        ("::/0", "an address outside the global unicast space (2000::/3)", "IPv6 Address Space: reserved by the IETF, RFC 4291", .refused),
        ("2000::/3", "", "Global Unicast, RFC 4291", .reachable),
        // IPv6 Special-Purpose Address Registry
        ("::/128", "the unspecified address", "Unspecified Address, RFC 4291", .refused),
        ("::1/128", "a loopback address", "Loopback Address, RFC 4291", .refused),
        ("::ffff:0:0/96", "", "IPv4-mapped Address, RFC 4291", .judgedByEmbeddedIPv4),
        ("64:ff9b::/96", "", "IPv4-IPv6 Translation (NAT64 well-known prefix), RFC 6052", .judgedByEmbeddedIPv4),
        ("64:ff9b:1::/48", "a local-use IPv4/IPv6 translation address", "IPv4-IPv6 Translation (local use), RFC 8215", .refused),
        ("100::/64", "a discard-only address", "Discard-Only Address Block, RFC 6666", .refused),
        ("100:0:0:1::/64", "a dummy address", "Dummy IPv6 Prefix, RFC 9780", .refused),
        ("2001::/23", "an IETF protocol address", "IETF Protocol Assignments, RFC 2928", .refused),
        ("2001::/32", "a Teredo address (it can carry any IPv4 address)", "TEREDO, RFC 4380", .refused),
        ("2001:1::1/128", "", "Port Control Protocol Anycast, RFC 7723", .reachable),
        ("2001:1::2/128", "", "Traversal Using Relays around NAT Anycast, RFC 8155", .reachable),
        ("2001:2::/48", "a benchmarking address", "Benchmarking, RFC 5180", .refused),
        ("2001:3::/32", "", "AMT, RFC 7450", .reachable),
        ("2001:4:112::/48", "", "AS112-v6, RFC 7535", .reachable),
        ("2001:10::/28", "a deprecated ORCHID address", "Deprecated (previously ORCHID), RFC 4843", .refused),
        ("2001:20::/28", "", "ORCHIDv2, RFC 7343", .reachable),
        ("2001:30::/28", "", "Drone Remote ID Protocol Entity Tags, RFC 9374", .reachable),
        ("2001:db8::/32", "a documentation address", "Documentation, RFC 3849", .refused),
        ("2002::/16", "a 6to4 address (it can carry any IPv4 address)", "6to4, RFC 3056", .refused),
        ("2620:4f:8000::/48", "", "Direct Delegation AS112 Service, RFC 7534", .reachable),
        ("3fff::/20", "a documentation address", "Documentation, RFC 9637", .refused),
        ("5f00::/16", "a segment-routing address", "Segment Routing (SRv6) SIDs, RFC 9602", .refused),
        ("fc00::/7", "a unique local (private) address", "Unique-Local, RFC 4193", .refused),
        ("fe80::/10", "a link-local address", "Link-Local Unicast, RFC 4291", .refused),
        // The IPv6 addressing architecture, beside the registry
        ("::/96", "an IPv4-compatible address (deprecated; it can carry any IPv4 address)", "IPv4-Compatible, RFC 4291 2.5.5.1", .refused),
        ("::ffff:0:0:0/96", "", "IPv4-translated (SIIT), RFC 2765", .judgedByEmbeddedIPv4),
        ("fec0::/10", "a site-local address", "Site-Local (deprecated), RFC 3879", .refused),
        ("ff00::/8", "a multicast address", "Multicast, RFC 4291", .refused),
    ]

    /// The most specific block of the table that holds `address`, if any.
    public static func block(of address: [UInt8]) -> Block? {
        var best: Block?
        for block in table where block.range.network.count == address.count && block.range.contains(address) {
            if block.range.prefixLength > best?.range.prefixLength ?? -1 { best = block }
        }
        return best
    }

    /// Why the garden must not connect to `address` (4 or 16 bytes), or nil when it may.
    public func refusal(for address: [UInt8]) -> String? {
        guard address.count == 4 || address.count == 16 else { return "an address the garden cannot read" }
        if allowed.contains(where: { $0.contains(address) }) { return nil }
        guard let block = Self.block(of: address) else { return nil }  // global unicast
        switch block.verdict {
        case .reachable: return nil
        case .refused: return block.reason
        case .judgedByEmbeddedIPv4: return refusal(for: Array(address[12..<16]))
        }
    }
}
