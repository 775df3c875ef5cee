import Foundation

/// The garden's configuration: where it listens, which sites it hosts, and its limits.
///
/// Read from `Config/garden.yaml` and `Config/sites.yaml`. This type only parses text;
/// reading the files is the caller's job, so the policy core stays free of I/O.
public struct GardenConfig: Sendable, Equatable {
    /// One listening socket.
    public struct Listener: Sendable, Equatable {
        /// The address and port to bind.
        public var address: ListenAddress
        /// The visitor class of everyone who connects here, so one laptop can show two
        /// worlds side by side (`:8080` citizen, `:8081` official); nil for the default class.
        public var persona: String?
        /// Who may connect (`clients:`); nil for the default (`admitted(defaultClass:)`).
        public var clients: ListenerClients?
        public init(address: ListenAddress, persona: String? = nil, clients: ListenerClients? = nil) {
            self.address = address
            self.persona = persona
            self.clients = clients
        }

        /// Who may connect. Unless garden.yaml says, a listener beyond loopback whose
        /// persona is not the default class answers the teacher's machine only: a student
        /// who finds the official's port does not become an official.
        public func admitted(defaultClass: String) -> ListenerClients {
            if let clients { return clients }
            guard !address.isLoopback, let persona, persona != defaultClass else { return .anyone }
            return .teacher
        }
    }

    /// The sockets the data plane listens on.
    public var listeners: [Listener]
    /// Host name to site, with the portal.
    public var sites: SiteRegistry
    /// Size and time limits for clients.
    public var limits: ServerLimits

    /// Who may see what (`policy.yaml`); everything is allowed when there is none.
    public var policy: Policy
    /// The teacher's desk (`teacher:` in garden.yaml): where it listens and the hash of
    /// its password (nil until `Config/desk-password` is read or made); nil when it is
    /// turned off (`teacher: off`).
    public var teacher: TeacherSettings?
    /// The surveillance log (`log:` in garden.yaml); nil writes none to disk.
    public var auditLog: AuditLogSettings?
    /// Ports a `CONNECT` may ask for (`tunnels: {ports: [...]}`); others are refused.
    public var tunnelPorts: Set<Int> = [80, 443]
    /// Whether allowed tunnels may reach the real network (`upstream:`); off by default.
    public var upstream = UpstreamSettings()
    /// The lab page for students (`/lab` at the garden's own address): on unless
    /// `lab: off` in garden.yaml.
    public var lab = true
    /// The class roster (`classroom.yaml`); empty without one.
    public var roster = ClassRoster()
    /// What is allowed but almost surely a mistake (a host in a rule that matches no
    /// site): `check` and a reload say so; the garden serves anyway.
    public var warnings: [ConfigDiagnostic] = []

    /// The page templates of `Config/templates/` by name (without `.mustache`), as read;
    /// the server compiles them (the built-in ones stand in for any not given).
    public var templates: [String: Source] = [:]

    public init(listeners: [Listener], sites: SiteRegistry, limits: ServerLimits = ServerLimits(), policy: Policy = .openDoor) {
        self.listeners = listeners
        self.sites = sites
        self.limits = limits
        self.policy = policy
    }

    /// A named config text, as read from disk.
    public struct Source: Sendable, Equatable {
        /// The path shown in diagnostics, e.g. `Config/sites.yaml`.
        public var file: String
        /// The file's contents.
        public var text: String
        public init(file: String, text: String) {
            self.file = file
            self.text = text
        }
    }

    /// Parses the files, reporting every problem found in any of them.
    ///
    /// - Parameters:
    ///   - policy: `policy.yaml`, or nil for a garden where everything is allowed.
    ///   - lists: the host lists of `Config/lists/`, by name, for `@name` in the policy.
    /// - Throws: `ConfigErrors` with one `file:line:column` diagnostic per problem.
    public static func parse(
        garden: Source, sites: Source, policy policySource: Source? = nil, lists: [String: Source] = [:], switches: Source? = nil,
        classroom: Source? = nil, classroomPasswords: Source? = nil
    ) throws(ConfigErrors) -> GardenConfig {
        let sink = DiagnosticSink()
        let registry = parseSites(sites, sink: sink)
        let parsedPolicy = policySource.map { parsePolicy($0, lists: lists, switches: switches, sink: sink) }
        // A policy with errors gives no classes to check the listeners' personas against.
        var policy = parsedPolicy.flatMap { $0 } ?? .openDoor
        let policyParsed = parsedPolicy.map { $0 != nil } ?? true
        // The students become accounts (checked against the classes once the policy reads).
        var roster = ClassRoster()
        if let classroom, policyParsed {
            roster = parseRoster(classroom, passwords: classroomPasswords, policy: &policy, sink: sink)
        }
        var file = GardenFile()
        if let root = ConfigNode.parse(garden.text, file: garden.file, sink: sink),
           let keys = root.mapping("garden.yaml", allowed: ["listeners", "portal", "limits", "teacher", "log", "tunnels", "upstream", "lab"], required: ["listeners", "portal"]) {
            file.read(keys, classes: policyParsed ? policy.classes : nil, policyFile: policySource?.file, registry: registry, sitesFile: sites.file)
        }
        // Never an open proxy by accident: a way out, on an address others can reach, needs
        // rules that tell the visitors apart.
        if let node = file.upstreamNode, policyParsed,
           let problem = Self.openProxyProblem(upstream: file.upstream, listeners: file.listeners, policy: policy) {
            node.error(problem)
        }
        guard sink.isEmpty, let registry, let portal = file.portal else { throw ConfigErrors(sink.diagnostics) }
        var config = GardenConfig(
            listeners: file.listeners,
            sites: SiteRegistry(sites: registry.sites, portalHost: portal),
            limits: file.limits,
            policy: policy
        )
        config.teacher = file.teacher
        config.auditLog = file.auditLog
        config.tunnelPorts = file.tunnelPorts
        config.upstream = file.upstream
        config.lab = file.lab
        config.roster = roster
        if file.upstream.mode == .off { config.warnings = hostWarnings(policy: policy, registry: config.sites, sitesFile: sites.file) }
        return config
    }

    /// `policy.yaml` with the host lists and the switches' states applied; nil (its
    /// problems reported to `sink`) when it has errors.
    static func parsePolicy(_ source: Source, lists: [String: Source], switches: Source?, sink: DiagnosticSink) -> Policy? {
        do {
            var policy = try Policy.parse(source, lists: lists)
            if let switches {
                policy = policy.applyingSwitches(parseSwitchStates(switches, declared: policy.switches.map(\.id), sink: sink))
            }
            return policy
        } catch {
            for diagnostic in error.diagnostics { sink.report(diagnostic) }
            return nil
        }
    }

    /// With no way out, a host pattern in a rule that matches no site can never match a
    /// request: almost always a misspelling (`cooks.org.kpp`), which would leave the rule
    /// silently doing nothing. Said with "did you mean" against the site names.
    static func hostWarnings(policy: Policy, registry: SiteRegistry, sitesFile: String) -> [ConfigDiagnostic] {
        guard registry.sites.isEmpty == false else { return [] }
        let names = registry.sites.flatMap { [$0.host] + $0.aliases }
        var warnings: [ConfigDiagnostic] = []
        for mention in policy.hostMentions where !names.contains(where: mention.pattern.matches) {
            let written = mention.pattern.description
            let suggestion: String
            switch mention.pattern {
            case .exact(let name): suggestion = Suggestion.phrase(for: name, among: names)
            case .suffix(let domain):
                suggestion = Suggestion.closest(to: domain, among: Set(names.flatMap(Self.domains))).map { " (did you mean '*.\($0)'?)" } ?? ""
            }
            warnings.append(ConfigDiagnostic(
                file: mention.diagnosticPlace.file, line: mention.diagnosticPlace.line, column: mention.diagnosticPlace.column,
                message: "'\(written)' in rule '\(mention.rule)' matches no site in \(sitesFile)\(suggestion), "
                    + "and the garden has no way out to the real internet: the rule can never match it"
            ))
        }
        return warnings
    }

    /// The domains above a name (`a.b.kp` → `b.kp`, `kp`), for `*.` suggestions.
    private static func domains(of name: String) -> [String] {
        let labels = name.split(separator: ".")
        return (1..<max(1, labels.count)).map { labels[$0...].joined(separator: ".") }
    }

    /// The garden's own ports when it has a way out to the real network (nil when it has
    /// none): a proxy request for an address on another port leaves the garden.
    public var portsBesideWayOut: Set<Int>? {
        upstream.mode == .direct ? Set(listeners.map(\.address.port)) : nil
    }

    /// Why this configuration would be an open proxy, or nil: a way out to the real
    /// network, on an address others can reach, with no rule telling visitors apart.
    public var openProxyProblem: String? {
        Self.openProxyProblem(upstream: upstream, listeners: listeners, policy: policy)
    }

    static func openProxyProblem(upstream: UpstreamSettings, listeners: [Listener], policy: Policy) -> String? {
        guard upstream.mode == .direct, let exposed = listeners.first(where: { !$0.address.isLoopback }),
              !policy.tellsVisitorsApart
        else { return nil }
        return "upstream: direct with a listener on \(exposed.address) would make the garden an open proxy; "
            + "add rules with `clients` or `accounts`/`signed_in` (or client address classes), or listen on loopback only"
    }

    /// switches.yaml: `name: on|off` for switches declared in policy.yaml.
    private static func parseSwitchStates(_ source: Source, declared: [String], sink: DiagnosticSink) -> [String: Bool] {
        // An empty file (or one of comments only) sets nothing.
        guard source.text.split(separator: "\n").contains(where: { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }),
              let root = ConfigNode.parse(source.text, file: source.file, sink: sink)
        else { return [:] }
        var states: [String: Bool] = [:]
        for (name, keyNode, value) in root.namedEntries("switches.yaml") ?? [] {
            guard declared.contains(name) else {
                keyNode.error("no switch '\(name)' in policy.yaml\(Suggestion.phrase(for: name, among: declared))")
                continue
            }
            if let state = value.switchState("switch '\(name)'") { states[name] = state }
        }
        return states
    }

    /// Reads `sites.yaml`; returns nil only when the file could not be read as a whole.
    /// The returned registry's portal is a placeholder until `garden.yaml` names it.
    private static func parseSites(_ source: Source, sink: DiagnosticSink) -> SiteRegistry? {
        guard let root = ConfigNode.parse(source.text, file: source.file, sink: sink),
              let keys = root.mapping("sites.yaml", allowed: ["sites"], required: ["sites"]),
              let entries = keys["sites"]?.namedEntries("sites")
        else { return nil }
        var sites: [SiteEntry] = []
        var claimedNames: [String: String] = [:]

        func claim(_ name: String, by host: String, at node: ConfigNode) {
            if let owner = claimedNames[name] {
                node.error("'\(name)' is already the name of site '\(owner)'")
            } else {
                claimedNames[name] = host
            }
        }

        for (rawHost, keyNode, valueNode) in entries {
            guard let host = siteHostName(rawHost, at: keyNode) else { continue }
            claim(host, by: host, at: keyNode)
            let settings = valueNode.mapping(
                "site '\(host)'", allowed: ["title", "zone", "aliases", "folder"], required: ["zone"]
            ) ?? [:]
            var zone = Zone.intranet
            if let parsed: Zone = settings["zone"]?.oneOf("zone", kind: "zone", plural: "zones") { zone = parsed }
            var aliases: [String] = []
            for aliasNode in settings["aliases"]?.list("aliases") ?? [] {
                guard let text = aliasNode.string("an alias"), let alias = siteHostName(text, at: aliasNode) else { continue }
                claim(alias, by: host, at: aliasNode)
                aliases.append(alias)
            }
            var folder = host
            if let node = settings["folder"], let text = node.string("folder") {
                if isSafeFolderName(text) {
                    folder = text
                } else {
                    node.error("folder '\(text)' must be a folder name inside the sites directory (no '/', '\\', '..' or leading '.')")
                }
            }
            let title = settings["title"]?.string("title")
            sites.append(SiteEntry(host: host, aliases: aliases, folder: folder, zone: zone, title: title))
        }
        if entries.isEmpty { keys["sites"]?.error("sites needs at least one site") }
        return SiteRegistry(sites: sites, portalHost: sites.first?.host ?? "")
    }

    private static func siteHostName(_ text: String, at node: ConfigNode) -> String? {
        guard let host = HostName(authority: text), host.port == nil, !host.isIPLiteral, host.name == text.lowercased() else {
            node.error("'\(text)' is not a host name (write it like friend.com.kp, without scheme, port or path)")
            return nil
        }
        guard host.name != "localhost", !host.name.hasSuffix(".localhost") else {
            node.error("'\(text)' is reserved: NAME.localhost already reaches the site NAME")
            return nil
        }
        return host.name
    }

    private static func isSafeFolderName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\\")
            && !name.contains("\0")
    }
}
