import GardenPolicy
import GardenRewrite

/// The gateway form's addresses: `/site/HOST/PATH` at the garden's own address.
extension ExchangePlanner {
    /// What a request target in the gateway form stands for.
    enum GatewayTarget {
        /// The real address (absolute form), and the form to serve it in.
        case target(RequestTarget, GatewayForm)
        /// `/site/HOST` without its slash: the site's folder is `/site/HOST/`, so that
        /// relative links resolve inside it.
        case moved(String)
        case unreadable
    }

    /// `/site/HOST/PATH` as `http://HOST/PATH`; any other path as the portal's.
    static func gatewayTarget(_ requestTarget: String, portal: String) -> GatewayTarget {
        var site = portal
        var path = Substring(requestTarget)
        if requestTarget.hasPrefix(GatewayForm.prefix) {
            let rest = requestTarget.dropFirst(GatewayForm.prefix.count)
            let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            guard end != rest.startIndex else { return .moved("/") }
            guard end != rest.endIndex, rest[end] == "/" else {
                return .moved(GatewayForm.prefix + rest[..<end] + "/" + rest[end...])
            }
            site = rest[..<end].lowercased()
            path = rest[end...]
        }
        let real = "http://\(site)\(path)"
        guard case .success(let parsed) = RequestTarget.parse(method: "GET", uri: real, host: nil, requiresHost: false),
              parsed.form == .absolute
        else { return .unreadable }
        return .target(parsed, GatewayForm(site: site, realAddress: real))
    }
}
