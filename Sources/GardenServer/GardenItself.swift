import GardenPolicy
import NIOCore
import NIOPosix
import Synchronization

/// The garden's own ports: its data listeners and the teacher's desk. On a local address
/// (loopback, unspecified, or one of the machine's interfaces) they are the garden
/// itself, which its way out never fetches from or tunnels to, whatever the SSRF guard's
/// `allow` says: a visitor must not reach the desk through the proxy (and lock the
/// teacher out with wrong guesses counted against 127.0.0.1), nor an official's
/// listener from a citizen's.
final class GardenItself: Sendable {
    private struct Ports {
        var listeners: Set<Int> = []
        var desk: Set<Int> = []
    }

    private let ports = Mutex(Ports())

    /// A data listener is bound at `port`.
    func addListener(port: Int) {
        ports.withLock { _ = $0.listeners.insert(port) }
    }

    /// The teacher's desk listens at `port`.
    func addDesk(port: Int) {
        ports.withLock { _ = $0.desk.insert(port) }
    }

    /// Whether `port` is one of the data listeners' (a proxy request for it on a local
    /// name shows the portal).
    func isListener(port: Int) -> Bool {
        ports.withLock { $0.listeners.contains(port) }
    }

    /// Whether `port` is any of the garden's own.
    func isOwn(port: Int) -> Bool {
        ports.withLock { $0.listeners.contains(port) || $0.desk.contains(port) }
    }

    /// Why a connection to `address` (4 or 16 bytes) at `port` would reach the garden
    /// itself, or nil when it would not.
    func refusal(for address: [UInt8], port: Int) -> String? {
        guard isOwn(port: port), Self.isLocal(address) else { return nil }
        return "the garden's own port \(port) (its listeners and the teacher's desk are never reached through it)"
    }

    /// Loopback, unspecified (which reaches this machine), or an address of one of this
    /// machine's interfaces.
    static func isLocal(_ address: [UInt8]) -> Bool {
        var address = address
        if address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            address = Array(address[12...])
        }
        if address.count == 4, address[0] == 127 || address[0] == 0 { return true }
        if address.count == 16, address[0..<15].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1
        // Only for the garden's own ports, so rare: the interfaces are asked each time
        // (a laptop's address changes as it moves between networks).
        let devices = (try? System.enumerateDevices()) ?? []
        return devices.contains { device in
            device.address?.ipAddress.flatMap(IPAddressRange.parseAddress) == address
        }
    }
}
