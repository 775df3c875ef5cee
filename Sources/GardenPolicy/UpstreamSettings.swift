/// The real upstream (`upstream:` in garden.yaml): whether allowed requests for hosts that
/// are not simulated sites may leave the garden for the real network. Off by default: a
/// classroom garden fetches nothing from outside unless the teacher says so.
public struct UpstreamSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Nothing leaves the garden (allowed tunnels get 502).
        case off
        /// Allowed tunnels connect to the real host (after the SSRF guard).
        case direct
    }

    public var mode: Mode = .off
    /// Destinations the SSRF guard lets through anyway (`allow: [127.0.0.1/32]`).
    public var guardrail = DestinationGuard()
    public var connectTimeout: Duration = .seconds(5)

    public init() {}

    static func parse(_ node: ConfigNode) -> UpstreamSettings? {
        guard let keys = node.mapping("upstream", allowed: ["mode", "allow", "connect_timeout"], required: ["mode"]) else { return nil }
        var settings = UpstreamSettings()
        if let mode: Mode = keys["mode"]?.oneOf("mode", kind: "upstream mode", plural: "modes") { settings.mode = mode }
        for item in keys["allow"]?.list("allow") ?? [] {
            guard let text = item.string("an allowed destination") else { continue }
            if let range = IPAddressRange(text) {
                settings.guardrail.allowed.append(range)
            } else {
                item.error("'\(text)' is not an address range; write it as 127.0.0.1/32 or ::1/128")
            }
        }
        if let value = keys["connect_timeout"]?.duration("connect_timeout", in: .milliseconds(100)...(.seconds(120))) {
            settings.connectTimeout = value
        }
        return settings
    }
}
