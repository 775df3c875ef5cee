/// The proxy auto-config (PAC) file the garden serves at `/proxy.pac`: a browser given
/// its address (`--proxy-pac-url`, or Firefox's "Automatic proxy configuration URL")
/// sends the garden's sites — intranet and simulated outside world — and every `.kp`
/// name through the garden, and everything else straight out; or, when the garden has a
/// way out to the real internet, everything through the garden, as through a national proxy.
public enum ProxyAutoConfig {
    /// - Parameters:
    ///   - proxy: the garden's address as the browser reaches it, e.g. `127.0.0.1:8080`
    ///     (the listener the file was fetched from, so its persona applies).
    ///   - registry: the sites, with their aliases.
    ///   - everything: send every address through the garden (it has a way out, so the
    ///     censor sees the real web too); else only the garden's own names.
    public static func file(proxy: String, registry: SiteRegistry, everything: Bool = false) -> String {
        let names = registry.sites.flatMap { [$0.host] + $0.aliases }.sorted()
        let list = names.map { "    \"\(javaScriptString($0))\": true" }.joined(separator: ",\n")
        let rest = everything ? "garden" : "\"DIRECT\""
        let summary = everything
            ? "every address through the garden (it has a way out to the real internet)"
            : "the garden's sites through the garden, the rest direct"
        return """
            // Walled Garden proxy auto-config: \(summary).
            // Made from Config/sites.yaml; fetch it again after sites change.
            var garden = "PROXY \(javaScriptString(proxy))";
            var sites = {
            \(list)
            };
            function FindProxyForURL(url, host) {
              host = host.toLowerCase();
              if (sites.hasOwnProperty(host)) return garden;
              if (dnsDomainIs(host, ".kp") || host === "kp") return garden;
              return \(rest);
            }

            """
    }

    private static func javaScriptString(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": escaped += "\\" + String(scalar)
            case _ where scalar.value < 0x20 || scalar.value > 0x7E: escaped += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
