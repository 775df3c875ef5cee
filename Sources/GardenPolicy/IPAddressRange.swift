import Foundation

/// An IP address range in CIDR notation (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`), used by
/// rules' `clients` condition and to tell classroom machines apart.
public struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    /// The address bytes: 4 for IPv4, 16 for IPv6.
    public let network: [UInt8]
    /// How many leading bits must match.
    public let prefixLength: Int

    /// Parses `address` or `address/length`; nil if either part is invalid.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddressRange.parseAddress(String(parts[0])) else { return nil }
        let bits = address.count * 8
        var length = bits
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...bits).contains(parsed) else { return nil }
            length = parsed
        }
        // Keep only the network bits, so 10.1.2.3/8 and 10.0.0.0/8 are the same range.
        var network = address
        for index in 0..<network.count {
            let keep = max(0, min(8, length - index * 8))
            network[index] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        self.network = network
        self.prefixLength = length
    }

    /// Whether `address` (4 or 16 bytes) lies in this range. IPv4-mapped IPv6 addresses
    /// (`::ffff:10.0.0.1`) count as IPv4.
    public func contains(_ address: [UInt8]) -> Bool {
        var address = address
        if address.count == 16, network.count == 4, address[0..<10].allSatisfy({ $0 == 0 }),
           address[10] == 0xFF, address[11] == 0xFF {
            address = Array(address[12...])
        }
        guard address.count == network.count else { return false }
        var remaining = prefixLength
        for index in 0..<network.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != network[index] { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let address: String
        if network.count == 4 {
            address = network.map(String.init).joined(separator: ".")
        } else {
            address = stride(from: 0, to: 16, by: 2)
                .map { String(UInt16(network[$0]) << 8 | UInt16(network[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
        return "\(address)/\(prefixLength)"
    }

    /// The bytes of an IPv4 (`1.2.3.4`) or IPv6 (`fe80::1`, `::ffff:1.2.3.4`) address.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        if !text.contains(":") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit), let value = UInt8(part) else { return nil }
                bytes.append(value)
            }
            return bytes
        }
        var text = Substring(text)
        var tail: [UInt8] = []
        // An embedded IPv4 address at the end (::ffff:1.2.3.4).
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parseAddress(String(text[text.index(after: lastColon)...])) else { return nil }
            tail = v4
            text = text[...lastColon]
            if text.hasSuffix(":"), !text.hasSuffix("::") { text = text.dropLast() }
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ half: String) -> [UInt16]? {
            if half.isEmpty { return [] }
            var result: [UInt16] = []
            for group in half.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]), let back = halves.count == 2 ? groups(halves[1]) : [] else { return nil }
        let needed = 8 - tail.count / 2
        var all = head
        if halves.count == 2 {
            guard head.count + back.count < needed else { return nil }
            all += [UInt16](repeating: 0, count: needed - head.count - back.count) + back
        }
        guard all.count == needed else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } + tail
    }
}
