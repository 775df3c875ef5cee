import GardenPolicy
import GardenServer

/// Who sees what: for every visitor class and every site, what the garden does with a
/// visit to the site's home page, as the data plane plans it (`VisitPlanner`). The
/// lesson's one-glance picture: the desk draws it as a coloured table, and `walled-garden
/// matrix` prints it.
public struct ReachabilityMatrix: Sendable {
    /// What one class gets at one site.
    public struct Cell: Sendable, Equatable {
        /// In a word or two: `allow`, `rewritten`, `throttled`, `sign-in`, or the censor's
        /// style (`block`, `unavailable`, `notfound`, `redirect`, `drop`, ...).
        public var label: String
        /// The rule that decided (or `default`), and its reason; empty when the request
        /// was answered before the censor (an error).
        public var rule: String
        public var reason: String
    }

    /// Classes as rows (the default class first), sites as columns (as in sites.yaml).
    public let classes: [String]
    public let sites: [SiteEntry]
    /// `cells[row][column]`.
    public let cells: [[Cell]]

    /// - Parameter time: when the visits are made, seconds since 1970 (schedules apply).
    public init(config: GardenConfig, sitesDirectory: String, time: Int64) {
        let policy = config.policy
        classes = [policy.defaultClass] + policy.classes.keys.filter { $0 != policy.defaultClass }.sorted()
        sites = config.sites.sites
        let planner = VisitPlanner(sites: SiteFolders(config: config, directory: sitesDirectory))
        let sites = self.sites
        cells = classes.map { visitorClass in
            sites.map { site in
                let visit = Visit(url: "http://\(site.host)/", persona: visitorClass, time: time)
                guard let planned = try? planner.plan(visit) else { return Cell(label: "unreadable", rule: "", reason: "") }
                return Self.cell(planned)
            }
        }
    }

    static func cell(_ planned: PlannedVisit) -> Cell {
        let decision = planned.decision
        let rule = decision?.ruleID ?? ""
        let reason = decision?.reason ?? ""
        let throttled = decision?.effects.contains { if case .throttle = $0 { true } else { false } } == true
        let label: String
        switch planned.outcome {
        case .page, .moved, .tunnel, .siteTunnel, .fetched: label = throttled ? "throttled" : "allow"
        case .rewrittenPage: label = throttled ? "rewritten, throttled" : "rewritten"
        case .censored: label = decision?.action.name ?? "censored"
        case .challenged: label = "sign-in"
        case .noSuchAddress, .missing: label = "no page"
        case .refused(let status, _): label = "error \(status)"
        case .proxyAutoConfig: label = "allow"
        }
        return Cell(label: label, rule: rule, reason: reason)
    }

    /// The matrix as text: a row per class, a column per site.
    public var lines: [String] {
        TextTable.render(header: ["class"] + sites.map(\.host), rows: zip(classes, cells).map { [$0] + $1.map(\.label) })
    }
}
