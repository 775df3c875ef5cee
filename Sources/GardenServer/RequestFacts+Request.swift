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
            path: Self.policyPath(path), method: method,
            query: path.rawQuery.isEmpty ? "" : String(path.rawQuery.dropFirst())
        )
    }

    /// `/` + the decoded path + `/` for a folder: put together byte by byte, once, rather
    /// than by `String` concatenation (which checks grapheme boundaries at each join).
    static func policyPath(_ path: RequestPath) -> String {
        var relative = path.relativePath
        let slashAfter = path.hasTrailingSlash && !relative.isEmpty
        return relative.withUTF8 { relative in
            let length = 1 + relative.count + (slashAfter ? 1 : 0)
            return String(unsafeUninitializedCapacity: length) { buffer in
                buffer[0] = UInt8(ascii: "/")
                if let base = relative.baseAddress { (buffer.baseAddress! + 1).update(from: base, count: relative.count) }
                if slashAfter { buffer[length - 1] = UInt8(ascii: "/") }
                return length
            }
        }
    }
}
