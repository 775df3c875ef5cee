import GardenPolicy
import GardenSites

extension RequestFacts {
    /// The policy's view of a parsed request: the decoded, normalised path with its leading
    /// `/` (and its trailing one, if sent), the query without its `?`. The one place facts
    /// are built: the teaching tools plan their requests with the data plane's planner.
    init(visitorClass: String, clientAddress: [UInt8]?, target: RequestTarget, path: RequestPath, zone: Zone?, method: String) {
        self.init(
            visitorClass: visitorClass, clientAddress: clientAddress, host: target.host.name, zone: zone,
            // A folder keeps its slash, so that `paths: [/office/]` covers `/office/` itself.
            path: "/" + path.relativePath + (path.hasTrailingSlash && !path.relativePath.isEmpty ? "/" : ""), method: method,
            query: path.rawQuery.isEmpty ? "" : String(path.rawQuery.dropFirst())
        )
    }
}
