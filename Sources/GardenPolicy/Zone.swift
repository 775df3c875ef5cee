/// Which side of the wall a site stands on.
public enum Zone: String, Sendable, CaseIterable {
    /// The national network: reachable by citizens.
    case intranet
    /// The outside world: reachable by officials and foreigners only (once policy exists).
    case internet
}
