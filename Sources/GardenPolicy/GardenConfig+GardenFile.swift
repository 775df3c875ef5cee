import Foundation

/// Reading `garden.yaml`: its listeners (with their personas and clients), the portal,
/// the limits, the teacher's desk, the log, tunnels, the way out and the lab.
extension GardenConfig {
    /// What `garden.yaml` says, as far as it could be read.
    struct GardenFile {
        var listeners: [Listener] = []
        var portal: String?
        var limits = ServerLimits()
        var teacher: TeacherSettings? = .standard
        var auditLog: AuditLogSettings?
        var tunnelPorts: Set<Int> = [80, 443]
        var upstream = UpstreamSettings()
        /// Where `upstream` was written, for the open-proxy check's error.
        var upstreamNode: ConfigNode?
        var lab = true

        /// Reads the file's keys; `classes` (nil when the policy has errors) checks personas.
        mutating func read(_ keys: [String: ConfigNode], classes: [String: String]?, policyFile: String?, registry: SiteRegistry?, sitesFile: String) {
            if let items = keys["listeners"]?.list("listeners") {
                listeners = items.compactMap { GardenConfig.parseListener($0, classes: classes, policyFile: policyFile) }
                if items.isEmpty { keys["listeners"]?.error("listeners needs at least one address") }
            }
            if let node = keys["portal"], let name = node.string("portal") {
                if let registry, registry.site(named: name) == nil {
                    let names = registry.sites.map(\.host)
                    node.error("portal '\(name)' is not a site in \(sitesFile)\(Suggestion.phrase(for: name, among: names))")
                }
                portal = name
            }
            if let node = keys["limits"] { GardenConfig.parseLimits(node, into: &limits) }
            if let node = keys["teacher"] { teacher = GardenConfig.parseTeacher(node) }
            if let node = keys["log"] { auditLog = AuditLogSettings.parse(node) }
            if let node = keys["tunnels"], let fields = node.mapping("tunnels", allowed: ["ports"], required: ["ports"]),
               let items = fields["ports"]?.list("ports") {
                tunnelPorts = Set(items.compactMap { $0.integer("a tunnel port", in: 1...65535) })
            }
            if let node = keys["lab"], let state = node.switchState("lab") { lab = state }
            if let node = keys["upstream"], let settings = UpstreamSettings.parse(node, classes: classes, policyFile: policyFile) {
                upstream = settings
                upstreamNode = node
            }
        }
    }

    /// `teacher:` — where the desk listens (`listen`) and the hash of its password
    /// (`password`; without one, the garden keeps it in `Config/desk-password`); `teacher:
    /// off` turns the desk off. Without `teacher:`, the desk is on (`TeacherSettings.standard`).
    private static func parseTeacher(_ node: ConfigNode) -> TeacherSettings? {
        if node.isScalar { return node.switchState("teacher") == false ? nil : .standard }
        guard let keys = node.mapping("teacher", allowed: ["listen", "password"]) else { return nil }
        var settings = TeacherSettings.standard
        if let listenNode = keys["listen"], let text = listenNode.string("listen") {
            guard let address = ListenAddress(text) else {
                listenNode.error("'\(text)' is not a listen address; write it as 127.0.0.1:9090 or [::1]:9090")
                return nil
            }
            settings.address = address
        }
        if let passwordNode = keys["password"], let text = passwordNode.string("password") {
            switch PasswordHash.parse(text) {
            case .success(let hash): settings.passwordHash = hash
            case .failure(let problem): passwordNode.error("the teacher's password \(problem)")
            }
        }
        return settings
    }

    private static func parseListener(_ node: ConfigNode, classes: [String: String]?, policyFile: String?) -> Listener? {
        let addressNode: ConfigNode
        var persona: String?
        var clients: ListenerClients?
        if node.isScalar {
            addressNode = node
        } else {
            guard let keys = node.mapping("a listener", allowed: ["address", "persona", "clients"], required: ["address"]),
                  let address = keys["address"] else { return nil }
            addressNode = address
            if let clientsNode = keys["clients"] { clients = parseListenerClients(clientsNode) }
            if let personaNode = keys["persona"], let name = personaNode.string("persona") {
                persona = name
                if let classes, classes[name] == nil {
                    let known = classes.keys.sorted()
                    let file = policyFile ?? "policy.yaml"
                    personaNode.error(
                        "persona '\(name)' is not a class in \(file)\(Suggestion.phrase(for: name, among: known)); classes are \(known.map { "'\($0)'" }.joined(separator: ", "))"
                    )
                }
            }
        }
        guard let text = addressNode.string("address") else { return nil }
        guard let address = ListenAddress(text) else {
            addressNode.error("'\(text)' is not a listen address; write it as 127.0.0.1:8080 or [::1]:8080")
            return nil
        }
        return Listener(address: address, persona: persona, clients: clients)
    }

    /// `clients: anyone`, `clients: teacher` (this machine only), or a list of address ranges.
    private static func parseListenerClients(_ node: ConfigNode) -> ListenerClients? {
        if node.isScalar {
            switch node.string("clients") {
            case "anyone": return .anyone
            case "teacher": return .teacher
            case let other?:
                node.error("clients must be anyone, teacher (this machine only) or a list of address ranges, not '\(other)'")
                return nil
            case nil: return nil
            }
        }
        let ranges = (node.list("clients") ?? []).compactMap { item -> IPAddressRange? in
            guard let text = item.string("a client range") else { return nil }
            guard let range = IPAddressRange(text) else {
                item.error("'\(text)' is not an address range; write it like 10.0.0.0/8, 192.168.1.20 or fd00::/8")
                return nil
            }
            return range
        }
        return .ranges(ranges)
    }

    private static func parseLimits(_ node: ConfigNode, into limits: inout ServerLimits) {
        let allowed = ["max_uri", "max_headers", "request_timeout", "idle_timeout", "max_connections", "max_connections_per_client", "shutdown_grace"]
        guard let keys = node.mapping("limits", allowed: allowed) else { return }
        if let value = keys["max_uri"]?.byteCount("max_uri", in: 256...(1 << 20)) { limits.maxURIBytes = value }
        if let value = keys["max_headers"]?.byteCount("max_headers", in: 1024...(1 << 20)) { limits.maxHeaderBytes = value }
        if let value = keys["request_timeout"]?.duration("request_timeout", in: .milliseconds(50)...(.seconds(3600))) {
            limits.requestTimeout = value
        }
        if let value = keys["idle_timeout"]?.duration("idle_timeout", in: .milliseconds(50)...(.seconds(3600))) {
            limits.idleTimeout = value
        }
        if let value = keys["max_connections"]?.integer("max_connections", in: 1...1_000_000) { limits.maxConnections = value }
        if let value = keys["max_connections_per_client"]?.integer("max_connections_per_client", in: 1...1_000_000) {
            limits.maxConnectionsPerClient = value
        }
        if let value = keys["shutdown_grace"]?.duration("shutdown_grace", in: .zero...(.seconds(600))) {
            limits.shutdownGrace = value
        }
    }
}
