/// The hosts of a `hosts` condition, kept as written and hashed for lookup, so a list
/// of ten thousand names costs one or two set lookups per label, not ten thousand
/// comparisons.
public struct HostSet: Sendable, Equatable, CustomStringConvertible {
    /// The patterns as written, for `explain` and equality.
    public let patterns: [HostPattern]
    /// Exact names.
    let names: Set<String>
    /// Domains of `*.domain` patterns (as substrings, so a request's parent domains are
    /// looked up without copying them into strings of their own).
    let domains: Set<Substring>

    public init(_ patterns: [HostPattern]) {
        self.patterns = patterns
        var names: Set<String> = []
        var domains: Set<Substring> = []
        for pattern in patterns {
            switch pattern {
            case .exact(let name): names.insert(name)
            case .suffix(let domain): domains.insert(Substring(domain))
            }
        }
        self.names = names
        self.domains = domains
    }

    /// Whether a normalised host name matches any pattern.
    public func contains(_ host: String) -> Bool {
        if names.contains(host) { return true }
        if domains.isEmpty { return false }
        var found = false
        Self.forEachParentDomain(of: host) { domain in
            if domains.contains(domain) { found = true }
            return !found
        }
        return found
    }

    /// Calls `body` with each domain above `host`, nearest first (`a.b.kp` → `b.kp`, `kp`),
    /// until it returns false.
    static func forEachParentDomain(of host: String, _ body: (Substring) -> Bool) {
        let bytes = host.utf8
        var position = bytes.startIndex
        while let dot = bytes[position...].firstIndex(of: UInt8(ascii: ".")) {
            position = bytes.index(after: dot)
            if position == bytes.endIndex || !body(host[position...]) { return }
        }
    }

    public static func == (a: HostSet, b: HostSet) -> Bool { a.patterns == b.patterns }

    public var description: String { patterns.map(\.description).joined(separator: " or ") }
}
