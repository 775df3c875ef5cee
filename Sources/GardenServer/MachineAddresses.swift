import GardenPolicy
import NIOCore
import NIOPosix

/// The addresses students type to reach a listener: for `0.0.0.0` (or `::`), this
/// machine's own interface addresses, never the wildcard, which no other machine can
/// connect to. For the banner of a garden opened to the classroom.
public enum MachineAddresses {
    /// `host:port` forms other machines can use for `listener` (IPv6 in brackets);
    /// empty for a loopback listener.
    public static func reachable(_ listener: ListenAddress) -> [String] {
        guard !listener.isLoopback else { return [] }
        let wildcard4 = listener.host == "0.0.0.0"
        let wildcard6 = listener.host == "::" || listener.host == "[::]"
        guard wildcard4 || wildcard6 else { return [authority(listener.host, listener.port)] }
        let devices = (try? System.enumerateDevices()) ?? []
        var seen: Set<String> = []
        var found: [String] = []
        for device in devices {
            guard let address = device.address, let ip = address.ipAddress, !seen.contains(ip) else { continue }
            let isIPv6 = ip.contains(":")
            // `::` takes IPv4 too (dual stack); `0.0.0.0` only IPv4.
            if isIPv6 && !wildcard6 { continue }
            guard let bytes = IPAddressRange.parseAddress(ip), Self.isForOthers(bytes) else { continue }
            seen.insert(ip)
            found.append(authority(ip, listener.port))
        }
        // IPv4 first: what students type most easily.
        return found.filter { !$0.hasPrefix("[") } + found.filter { $0.hasPrefix("[") }
    }

    /// Not loopback, not link-local (fe80::/10, 169.254/16: not routable from a classroom's
    /// other machines in general), not unspecified.
    static func isForOthers(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 { return bytes[0] != 127 && bytes[0] != 0 && !(bytes[0] == 169 && bytes[1] == 254) }
        guard bytes.count == 16 else { return false }
        if bytes.allSatisfy({ $0 == 0 }) || bytes == [UInt8](repeating: 0, count: 15) + [1] { return false }
        return !(bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80)
    }

    static func authority(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
