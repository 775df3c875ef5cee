import Foundation
import GardenPolicy
import GardenServer

/// The short start-up text: where the garden listens and what to try first.
struct Banner {
    let config: GardenConfig
    let sitesFolder: String
    /// The desk's password when this start made it (shown this once), and where its hash is.
    var newDeskPassword: String?
    var deskPasswordFile = "Config/desk-password"
    /// The lesson running (`--lesson`), if any.
    var lesson: LessonPack?
    /// The addresses other machines reach a listener at (this machine's interfaces for a
    /// wildcard address).
    var reachable: (ListenAddress) -> [String] = MachineAddresses.reachable

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
        if let lesson {
            lines.insert("Lesson: \(lesson.name) — \(lesson.manifest.title) (guide: \(lesson.file("guide.md")))", at: 1)
        }
        for listener in config.listeners {
            let persona = listener.persona ?? config.policy.defaultClass
            let wildcard = listener.address.host == "0.0.0.0" || listener.address.host == "::"
            lines.append("    http://\(listener.address)   as \(persona)\(listener.persona == nil ? " (the default class)" : "")"
                + (wildcard ? "   (every address of this machine: see below)" : ""))
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
        lines += forStudents()
        lines.append("")
        lines.append("Press Ctrl-C to stop.")
        return lines.joined(separator: "\n")
    }

    /// Beyond loopback: what students type for each listener meant for them.
    func forStudents() -> [String] {
        var lines: [String] = []
        let open = config.listeners.filter { !$0.address.isLoopback }
        if !open.isEmpty {
            lines.append("")
            lines.append("  Listening beyond loopback: other machines on the network can connect. For students:")
            for listener in open {
                let persona = listener.persona ?? config.policy.defaultClass
                switch listener.admitted(defaultClass: config.policy.defaultClass) {
                case .anyone: break
                case .teacher:
                    lines.append("    as \(persona): port \(listener.address.port) answers this machine only (clients: anyone, in garden.yaml, opens it)")
                    continue
                case .ranges(let ranges):
                    lines.append("    as \(persona), from \(ranges.map(\.description).joined(separator: ", ")) only:")
                }
                let addresses = reachable(listener.address)
                guard let first = addresses.first else {
                    lines.append("    as \(persona): this machine has no network address for \(listener.address) yet (is it connected?)")
                    continue
                }
                lines.append("    as \(persona): open http://\(first)/" + (addresses.count > 1 ? "  (or " + addresses.dropFirst().map { "http://\($0)/" }.joined(separator: ", ") + ")" : ""))
                let host = first.split(separator: ":").dropLast().joined(separator: ":")
                let port = first.split(separator: ":").last.map(String.init) ?? ""
                lines.append("        or set the browser's HTTP proxy to \(host) port \(port), or its proxy auto-config URL to http://\(first)/proxy.pac")
            }
        }
        return lines
    }
}
