import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching

/// `walled-garden probe`: fetch a page as a control and through the garden, and name the
/// censorship observed (as OONI Probe does on real networks).
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Fetch a page through the garden and directly, and name the censorship observed.",
        discussion: """
        The control is the page as its site in Sites/ has it (for any other host, the page
        fetched directly from the real host); the measurement is a GET through the garden as
        an HTTP proxy. For an https:// address it is what a browser does through a proxy:
        CONNECT, then TLS (the certificate checked against the garden's /garden-ca.pem),
        then the GET; --connect-to names another host in CONNECT than in the handshake, to
        see the censor read the server name (SNI). The verdict is one of: none, block page,
        451, fake not-found, redirect, sign-in demanded, drop, reset, stall, throttled,
        rewritten.
        Examples (with the garden running):
          walled-garden probe http://worldnews.example/
          walled-garden probe --as official http://worldnews.example/
          walled-garden probe --via http://127.0.0.1:8082 http://friend.com.kp/
          walled-garden probe --user inspector:kwangmyong http://kwangmyong.kp/office/
          walled-garden probe https://friend.com.kp/
          walled-garden probe --connect-to relay.example https://encyclopedia.example/
        """
    )

    @Option(help: ArgumentHelp("The garden as a proxy (default: the first listener in garden.yaml).", valueName: "url"))
    var via: String?

    @Option(name: .customLong("as"), help: ArgumentHelp("Probe as this class: through the listener whose persona it is.", valueName: "class"))
    var visitorClass: String?

    @Option(help: ArgumentHelp("Sign in to the proxy as name:password.", valueName: "name:password"))
    var user: String?

    @Option(name: .customLong("connect-to"), help: ArgumentHelp(
        "For an https:// address: ask the proxy to CONNECT to this host, while the TLS handshake names the address's own.",
        valueName: "host"
    ))
    var connectTo: String?
    @Option(help: ArgumentHelp("Seconds of silence before the garden counts as stalling.", valueName: "seconds"))
    var timeout: Double = 5

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @OptionGroup var lessonOptions: LessonOptions

    @Option(name: .long, help: ArgumentHelp("The folder of site folders (the control).", valueName: "dir"))
    var sites = "Sites"

    @Argument(help: ArgumentHelp("The address, e.g. http://worldnews.example/.", valueName: "url"))
    var url: String

    func run() throws {
        let gardenConfig = try lessonOptions.directory(config).loadForCommand()
        let written = url.contains("://") ? url : "http://" + url
        let overTLS = written.hasPrefix("https://")
        guard written.hasPrefix("http://") || overTLS else { throw ValidationError("probe speaks http:// and https:// only") }
        guard connectTo == nil || overTLS else { throw ValidationError("--connect-to is for https:// addresses (CONNECT)") }
        // Where to send it: --via, else the listener of --as, else the first listener.
        var address: ListenAddress
        if let via {
            let authority = via.replacingOccurrences(of: "http://", with: "").split(separator: "/").first.map(String.init) ?? ""
            guard let parsed = ListenAddress(authority) else { throw ValidationError("'\(via)' is not a proxy address like http://127.0.0.1:8080") }
            address = parsed
        } else if let visitorClass {
            guard let listener = gardenConfig.listeners.first(where: { $0.persona == visitorClass }) else {
                let personas = gardenConfig.listeners.compactMap(\.persona)
                throw ValidationError(
                    "no listener in garden.yaml has the persona '\(visitorClass)'"
                        + (personas.isEmpty ? "; it has none: say --via" : "; personas: \(personas.joined(separator: ", "))")
                )
            }
            address = listener.address
        } else {
            guard let first = gardenConfig.listeners.first else { throw ValidationError("garden.yaml has no listener; say --via") }
            address = first.address
        }
        let authorization = user.map { "Basic " + Data($0.utf8).base64EncodedString() }
        // The control: the site store's page, or for other hosts the real host's, fetched directly.
        let stored = Probe.control(url: written, config: gardenConfig, sitesDirectory: sites)
        let control = stored ?? Probe.directControl(url: written, timeout: timeout)
        // With a password, once first: the garden checks it (slowly, by design) and then
        // remembers it, so the measured fetch is not mistaken for throttling.
        let authority = overTLS ? Probe.gardenAuthority(host: address.host, port: address.port, timeout: timeout) : nil
        func measure() -> Probe.Observation {
            overTLS
                ? Probe.fetchOverTLS(
                    url: written, connectTo: connectTo, proxyHost: address.host, proxyPort: address.port, proxyAuthorization: authorization,
                    authorityPEM: authority, timeout: timeout
                )
                : Probe.fetch(url: written, proxyHost: address.host, proxyPort: address.port, proxyAuthorization: authorization, timeout: timeout)
        }
        if authorization != nil { _ = measure() }
        let seen = measure()
        let verdict = Probe.classify(seen, control: control)
        print("Probe of \(written) through http://\(address)" + (connectTo.map { " (CONNECT \($0), the handshake naming the address's host)" } ?? ""))
        if let control {
            print("  control (\(stored != nil ? "the site store" : "the real host, directly")): \(control.status), \(control.body.count) bytes")
        } else {
            print("  control: the garden has no site for this address, and the real host gave no answer")
        }
        var line = "  through the garden: "
        switch seen.ending {
        case .unreachable(let why): line += "unreachable (\(why))"
        default:
            line += seen.status.map { "\($0)" } ?? "no answer"
            line += String(format: ", %d bytes", seen.body.count)
            if let first = seen.firstByte { line += String(format: ", first byte after %.3f s", first) }
            line += String(format: ", %.3f s in all", seen.total)
            if let location = seen.header("Location") { line += ", Location: \(location)" }
        }
        print(line)
        if overTLS {
            print(
                seen.tunnelOpened
                    ? "  the proxy answered CONNECT with 200" + (seen.status == nil ? "; nothing came through the TLS tunnel (cut in the handshake: the censor read the server name)" : "; the page came through TLS")
                    : "  the proxy did not open the tunnel" + (seen.status.map { ": it answered CONNECT with \($0)" } ?? "")
            )
        }
        print("Censorship observed: \(verdict.summary)")
    }
}
