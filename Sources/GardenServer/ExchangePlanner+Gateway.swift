import GardenPolicy
import GardenRewrite

/// The garden's own address (an IP address or localhost, in origin form): the PAC file,
/// the students' lab, and the gateway form's addresses, `/site/HOST/PATH`.
extension ExchangePlanner {
    /// What a request at the garden's own address is.
    enum GardensAddress {
        /// One of the garden's own answers (the PAC file, the lab, a gateway redirect).
        case answer(ExchangePlan.Answer)
        /// In the gateway form: the real address, and the form to serve it in.
        case gateway(RequestTarget, GatewayForm)
        case unreadable
    }

    /// The PAC file at `/proxy.pac`; the lab at `/lab` (when on); else the gateway form,
    /// for devices that cannot set a proxy: `/site/HOST/PATH` is HOST's PATH, decided as
    /// the proxy request for it, and any other path is the portal's.
    func atTheGardensAddress(_ head: RequestHead, portal: String) -> GardensAddress {
        let isRead = head.method == .get || head.method == .head
        if isRead, head.target == "/proxy.pac" { return .answer(.proxyAutoConfig) }
        if isRead, head.target == "/garden-ca.pem" { return .answer(.authorityCertificate) }
        if lab, isRead, head.target == "/lab" || head.target.hasPrefix("/lab?") {
            return .answer(.lab(query: String(head.target.dropFirst("/lab?".count))))
        }
        switch Self.gatewayTarget(head.target, portal: portal) {
        case .target(let real, let form): return .gateway(real, form)
        case .moved(let location): return .answer(.moved(to: location))
        case .unreadable: return .unreadable
        }
    }

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
