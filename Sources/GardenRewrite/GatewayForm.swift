/// The gateway address form: every site at the garden's own address, by path
/// (`http://TEACHER:8080/site/friend.com.kp/feed.html`), for students' devices that cannot
/// set a proxy. A page served this way has its links put in the same form, so that
/// navigation stays inside the garden, and shows its real address in a slim strip.
public struct GatewayForm: Sendable, Hashable {
    /// The path every gateway address starts with.
    public static let prefix = "/site/"

    /// The page's own site (`host` or `host:port`): root-relative addresses are on it.
    public var site: String
    /// The page's real address, shown in the strip (`http://friend.com.kp/feed.html`).
    public var realAddress: String

    public init(site: String, realAddress: String) {
        self.site = site
        self.realAddress = realAddress
    }

    /// `address` in the gateway form, or nil when it stays as it is: `http://h/p` and
    /// `//h/p` become `/site/h/p`, a root-relative `/p` becomes `/site/SITE/p`; relative
    /// addresses already resolve under the page's own `/site/SITE/` folder, and `https:`
    /// and other schemes are left alone (never a silent downgrade).
    public func address(_ address: String) -> String? {
        let trimmed = address.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        var rest: Substring
        if trimmed.prefix(7).lowercased() == "http://" {
            rest = trimmed.dropFirst(7)
        } else if trimmed.hasPrefix("//") {
            rest = trimmed.dropFirst(2)
        } else if trimmed.hasPrefix("/") {
            return trimmed.hasPrefix(Self.prefix + site + "/") ? nil : Self.prefix + site + trimmed
        } else {
            return nil
        }
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty else { return nil }
        let path = rest[end...]
        return Self.prefix + authority.lowercased() + (path.hasPrefix("/") ? String(path) : "/" + path)
    }

    /// The address a `Location` header gives, in the gateway form (as is when it stays).
    public func location(_ location: String) -> String {
        address(location) ?? location
    }
}
