/// `walled-garden log summary`: what a surveillance log says, as tables — the top
/// visitors, the most blocked hosts, and the censored requests per rule and per class.
public struct AuditSummary: Sendable {
    public struct Count: Sendable, Equatable {
        public var requests = 0
        public var censored = 0

        public init(requests: Int = 0, censored: Int = 0) {
            self.requests = requests
            self.censored = censored
        }
    }

    public var events = 0
    public var firstTime: Int64?
    public var lastTime: Int64?
    /// By client address (with the account, when one signed in).
    public var visitors: [String: Count] = [:]
    /// Requests refused by the censor (every action but allow), by host.
    public var blockedHosts: [String: Int] = [:]
    /// Censored requests by deciding rule, with the action.
    public var blocksPerRule: [String: Int] = [:]
    public var perClass: [String: Count] = [:]
    /// Shadow rules' matches: what they would have done.
    public var shadowMatches: [String: Int] = [:]
    /// Requests not written one by one, their client's share of the log used up, by visitor.
    public var floods: [String: Int] = [:]

    public init() {}

    public mutating func add(_ event: AuditEvent) {
        firstTime = min(firstTime ?? event.time, event.time)
        lastTime = max(lastTime ?? event.time, event.time)
        if let suppressed = event.suppressed {
            // A flood's summary line: its requests count, their details are not known.
            let visitor = event.account.map { "\(event.client) (\($0))" } ?? event.client
            events += suppressed
            visitors[visitor, default: Count()].requests += suppressed
            perClass[event.visitorClass, default: Count()].requests += suppressed
            floods[visitor, default: 0] += suppressed
            return
        }
        events += 1
        let censored = event.isCensored
        let visitor = event.account.map { "\(event.client) (\($0))" } ?? event.client
        visitors[visitor, default: Count()].requests += 1
        perClass[event.visitorClass, default: Count()].requests += 1
        if censored {
            visitors[visitor, default: Count()].censored += 1
            perClass[event.visitorClass, default: Count()].censored += 1
        }
        if event.action != "allow" {
            blockedHosts[event.host, default: 0] += 1
            blocksPerRule["\(event.rule ?? "(before the policy)") → \(event.action)", default: 0] += 1
        } else if event.effects.contains("rewrite") {
            blocksPerRule["\(event.rule ?? "-") → allow, rewritten", default: 0] += 1
        }
        for shadow in event.shadow { shadowMatches["\(shadow.rule) → would \(shadow.action)", default: 0] += 1 }
    }

    /// The report, `top` rows per table.
    public func lines(top: Int = 10) -> [String] {
        guard events > 0 else { return ["The log holds no events."] }
        var lines = ["\(events) events, \(RFC3339.format(milliseconds: firstTime ?? 0)) to \(RFC3339.format(milliseconds: lastTime ?? 0))."]
        func section(_ title: String, _ table: [String]) {
            lines.append("")
            lines.append(title)
            lines += table
        }
        func sorted(_ counts: [String: Count]) -> [(String, Count)] {
            counts.sorted { ($0.value.requests, $1.key) > ($1.value.requests, $0.key) }.map { ($0.key, $0.value) }
        }
        func sorted(_ counts: [String: Int]) -> [(String, Int)] {
            counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) }
        }
        section("Top visitors", TextTable.render(
            header: ["visitor", "requests", "censored"],
            rows: sorted(visitors).prefix(top).map { [$0.0, String($0.1.requests), String($0.1.censored)] }, rightAligned: [1, 2]
        ))
        section("Top blocked hosts", blockedHosts.isEmpty ? ["  (none)"] : TextTable.render(
            header: ["host", "blocked"], rows: sorted(blockedHosts).prefix(top).map { [$0.0, String($0.1)] }, rightAligned: [1]
        ))
        section("Censored requests per rule", blocksPerRule.isEmpty ? ["  (none)"] : TextTable.render(
            header: ["rule → action", "requests"], rows: sorted(blocksPerRule).map { [$0.0, String($0.1)] }, rightAligned: [1]
        ))
        section("Per class", TextTable.render(
            header: ["class", "requests", "censored"],
            rows: sorted(perClass).map { [$0.0, String($0.1.requests), String($0.1.censored)] }, rightAligned: [1, 2]
        ))
        if !floods.isEmpty {
            section("Floods (requests beyond a client's share of the log, counted but not written one by one)", TextTable.render(
                header: ["visitor", "requests"], rows: sorted(floods).prefix(top).map { [$0.0, String($0.1)] }, rightAligned: [1]
            ))
        }
        if !shadowMatches.isEmpty {
            section("Shadow rules (not applied)", TextTable.render(
                header: ["rule → would", "requests"], rows: sorted(shadowMatches).map { [$0.0, String($0.1)] }, rightAligned: [1]
            ))
        }
        return lines
    }
}
