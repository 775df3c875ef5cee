/// One site of the garden, as declared in `Config/sites.yaml`.
public struct SiteEntry: Sendable, Equatable {
    /// The canonical host name, e.g. `friend.com.kp`.
    public var host: String
    /// Further names that reach the same site, e.g. `www.friend.com.kp`.
    public var aliases: [String]
    /// The site's folder, relative to the sites directory (defaults to `host`).
    public var folder: String
    /// Which side of the wall the site is on.
    public var zone: Zone
    /// A human title, shown in the start-up banner.
    public var title: String

    public init(host: String, aliases: [String] = [], folder: String? = nil, zone: Zone, title: String? = nil) {
        self.host = host
        self.aliases = aliases
        self.folder = folder ?? host
        self.zone = zone
        self.title = title ?? host
    }
}
