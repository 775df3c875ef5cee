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
    /// Ask for a password: 401 with `WWW-Authenticate` on the garden's own addresses,
    /// 407 with `Proxy-Authenticate` through the proxy.
    case authenticate

    /// The action names as written in `policy.yaml`.
    public static let names = ["allow", "block", "unavailable", "notfound", "redirect", "drop", "reset", "stall", "authenticate"]

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
        case .authenticate: "authenticate"
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
        case .authenticate: "authenticate"
        }
    }
}
