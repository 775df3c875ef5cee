import Foundation
import GardenPolicy

/// The short start-up text: where the garden listens and what to try first.
struct Banner {
    let config: GardenConfig
    let sitesFolder: String
    /// The desk's password when this start made it (shown this once), and where its hash is.
    var newDeskPassword: String?
    var deskPasswordFile = "Config/desk-password"

    var text: String {
        guard let first = config.listeners.first?.address else { return "" }
        let port = first.port
        let host = first.host.contains(":") ? "[\(first.host)]" : first.host
        let hostPort = "\(host):\(port)"
        let width = config.sites.sites.map(\.host.count).max() ?? 10
        var lines: [String] = []
        lines.append("Walled Garden — a classroom simulation of a censored national intranet")
        lines.append("Serving \(config.sites.sites.count) sites from \(sitesFolder)/, "
            + "\(config.policy.rules.count) rules in the policy. Listening on:")
        for listener in config.listeners {
            let persona = listener.persona ?? config.policy.defaultClass
            lines.append("    http://\(listener.address)   as \(persona)\(listener.persona == nil ? " (the default class)" : "")")
        }
        lines.append("")
        lines.append("  Portal:     http://localhost:\(port)/")
        lines.append("  Sites (open in a browser; browsers resolve *.localhost by themselves):")
        for site in config.sites.sites {
            let name = site.host.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("    \(name)  http://\(site.host).localhost:\(port)/   \(site.zone.rawValue) · \(site.title)")
        }
        let example = config.sites.sites.first { $0.host != config.sites.portalHost }?.host ?? config.sites.portalHost
        lines.append("  With curl:  curl -H 'Host: \(example)' http://\(hostPort)/")
        lines.append("  As a proxy: curl -x http://\(hostPort) http://\(example)/")
        lines.append("              or set a browser's HTTP proxy to \(hostPort)")
        if let teacher = config.teacher {
            lines.append("  Teacher's desk: http://\(teacher.address)/")
            if let newDeskPassword {
                lines.append("              password: \(newDeskPassword)")
                lines.append("              (shown this once: only its hash is kept, in \(deskPasswordFile);")
                lines.append("              walled-garden desk-password makes a new one)")
            } else {
                lines.append("              sign in with the password shown at its first start (walled-garden desk-password makes a new one)")
            }
            if !teacher.address.isLoopback {
                lines.append("              Warning: the desk listens beyond loopback; anyone on the network can reach its login page.")
            }
        } else {
            lines.append("  Teacher's desk: off (teacher: off in garden.yaml, or --desk off)")
        }
        if config.listeners.contains(where: { !$0.address.isLoopback }) {
            lines.append("")
            lines.append("  Note: listening beyond loopback — other machines on the network can connect.")
        }
        lines.append("")
        lines.append("Press Ctrl-C to stop.")
        return lines.joined(separator: "\n")
    }
}
