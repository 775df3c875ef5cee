/// What the garden does with a request once a rule decides: the censor's techniques,
/// each with a fingerprint a student can observe with curl alone.
public enum CensorStyle: Sendable, Equatable, CustomStringConvertible {
    /// Serve the page.
    case allow
    /// 403 with an in-world block page.
    case block
    /// 451 Unavailable For Legal Reasons, with `Link: <...>; rel="blocked-by"` (RFC 7725).
    case unavailable
    /// Answer exactly as for an address that does not exist.
    case notFound
    /// 302 to an approved alternative.
    case redirect(to: String)
    /// Close the connection without an answer.
    case drop
    /// Reset the connection (TCP RST).
    case reset
    /// Hold the connection, sending nothing, for this long.
    case stall(Duration)

    /// The action names as written in `policy.yaml`.
    static let names = ["allow", "block", "unavailable", "notfound", "redirect", "drop", "reset", "stall"]

    /// The action's name as written in `policy.yaml` (`redirect`, without its address).
    public var name: String {
        switch self {
        case .allow: "allow"
        case .block: "block"
        case .unavailable: "unavailable"
        case .notFound: "notfound"
        case .redirect: "redirect"
        case .drop: "drop"
        case .reset: "reset"
        case .stall: "stall"
        }
    }

    public var description: String {
        switch self {
        case .allow: "allow"
        case .block: "block"
        case .unavailable: "unavailable"
        case .notFound: "notfound"
        case .redirect(let location): "redirect to \(location)"
        case .drop: "drop"
        case .reset: "reset"
        case .stall(let duration): "stall for \(duration)"
        }
    }
}

/// A non-terminal consequence gathered on the way to a decision.
public enum Effect: String, Sendable, Equatable, CaseIterable {
    /// Flag the request in the surveillance log.
    case monitor
}
