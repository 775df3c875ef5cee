import GardenPolicy
import GardenSites

extension RequestFacts {
    /// The policy's view of a parsed request: the decoded, normalised path with its leading
    /// `/` (and its trailing one, if sent), the
    /// query without its `?`. The one place the data plane, `check` and `explain` build facts.
    init(visitorClass: String, clientAddress: [UInt8]?, target: RequestTarget, path: RequestPath, zone: Zone?, method: String) {
        self.init(
            visitorClass: visitorClass, clientAddress: clientAddress, host: target.host.name, zone: zone,
            // A folder keeps its slash, so that `paths: [/office/]` covers `/office/` itself.
            path: "/" + path.relativePath + (path.hasTrailingSlash && !path.relativePath.isEmpty ? "/" : ""), method: method,
            query: path.rawQuery.isEmpty ? "" : String(path.rawQuery.dropFirst())
        )
    }

    /// Facts for an address typed by a teacher (`check`'s tests, `explain`); nil when it is
    /// not an http address the garden can read (or, for CONNECT, `host:port`). The zone
    /// comes from `sites`, as the data plane finds the site: a tunnel reaches a site by
    /// its name only, and so does a proxy request for an address or `localhost` when the
    /// garden has a way out (`wayOutBeside`: the garden's own ports, which still show the portal).
    public static func forURL(
        _ url: String, method: String, visitorClass: String, clientAddress: [UInt8]?, sites: SiteRegistry,
        wayOutBeside gardenPorts: Set<Int>? = nil
    ) -> RequestFacts? {
        guard case .success(let target) = RequestTarget.parse(method: method, uri: url, host: nil, requiresHost: false),
              case .success(let path) = RequestPath.parse(target.form == .authority ? "/" : target.pathAndQuery)
        else { return nil }
        let addressLeaves = target.form == .absolute && (target.host.isIPLiteral || target.host.name == "localhost")
            && gardenPorts.map { !$0.contains(target.host.port ?? 80) } == true
        let zone = addressLeaves || (target.form == .authority && sites.site(named: target.host.name) == nil)
            ? nil : sites.site(for: target.host)?.zone
        var facts = RequestFacts(
            visitorClass: visitorClass, clientAddress: clientAddress, target: target, path: path,
            zone: zone, method: method
        )
        // A tunnel's path travels inside its encryption: the censor cannot see it.
        if target.form == .authority { facts.path = "" }
        return facts
    }
}
