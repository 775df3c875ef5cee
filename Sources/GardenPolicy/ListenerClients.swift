/// Who may connect to a listener (`clients:` in garden.yaml).
public enum ListenerClients: Sendable, Equatable {
    /// Anyone who can reach the address.
    case anyone
    /// The teacher's machine only: loopback and this machine's own addresses.
    case teacher
    /// Clients in these address ranges only.
    case ranges([IPAddressRange])

    /// Whether a client at `address` (4 or 16 bytes) may connect; `isThisMachine` says
    /// whether an address is one of this machine's (asked only for `teacher`).
    public func admits(_ address: [UInt8], isThisMachine: ([UInt8]) -> Bool) -> Bool {
        switch self {
        case .anyone: true
        case .teacher: isThisMachine(address)
        case .ranges(let ranges): ranges.contains { $0.contains(address) }
        }
    }
}
