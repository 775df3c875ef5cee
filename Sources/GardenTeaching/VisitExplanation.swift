import GardenPolicy
import GardenServer

/// `explain`'s report of one visit, as the data plane plans it: who the visitor is, rule
/// by rule why the censor decided, and then what the garden does with the request (the
/// page, its rewrite, the real host through the way out, or an error). The desk's trace
/// shows the same report.
public struct VisitExplanation {
    public let lines: [String]

    /// - Parameter howClassWasFound: how the visitor's class was found, in words.
    public init(visit: Visit, planned: PlannedVisit, config: GardenConfig, howClassWasFound: String) {
        guard let facts = planned.facts, let decision = planned.decision else {
            switch planned.outcome {
            case .challenged(let problem):
                lines = ["Asked to sign in before the censor decides" + (problem.map { ": \($0)" } ?? "") + "."]
            case .refused(let status, let reason):
                lines = ["Refused before the censor sees it: HTTP \(status), \(reason)."]
            default:
                lines = ["Answered before the censor sees it (\(planned.outcome))."]
            }
            return
        }
        var lines = Explanation(policy: config.policy, request: facts, decision: decision, howClassWasFound: howClassWasFound, url: visit.url).lines
        if decision.action == .allow, let then = Self.then(planned, facts: facts, decision: decision, config: config) {
            lines.append(then)
        }
        self.lines = lines
    }

    /// What follows a decision to let the request through.
    static func then(_ planned: PlannedVisit, facts: RequestFacts, decision: Decision, config: GardenConfig) -> String? {
        let upstream = config.upstream
        switch planned.outcome {
        case .tunnel:
            return "Then: the tunnel goes to the real host (upstream: direct), if the SSRF guard lets its address through."
        case .siteTunnel:
            return "Then: the garden answers the tunnel as the simulated site (over TLS, with a certificate of Config/garden-ca.pem), "
                + "once the censor has judged the name in the TLS handshake too; inside, it sees no path and changes no word."
        case .fetched:
            var line = "Then: the page comes from the real host (upstream: direct), if the SSRF guard lets its address through"
            if upstream.inspectLimitBytes > 0, !config.policy.contentKeywords.isEmpty || decision.effects.contains(where: \.isRewrite) {
                line += "; an HTML page up to \(upstream.inspectLimitBytes / 1024) KiB is read by the censor first"
            }
            return line + "."
        case .noSuchAddress:
            let why = upstream.mode == .direct
                ? "for \(facts.visitorClass) visitors (upstream classes in garden.yaml)" : "(upstream is off in garden.yaml)"
            return "Then: the garden has no way out \(why): the in-world page \"this address does not exist\" (404)."
        case .refused(let status, let reason):
            return "Then: HTTP \(status): \(reason)."
        case .page:
            return "Then: the site serves the page as it is."
        case .rewrittenPage:
            return "Then: the site's page is rewritten for this visitor (walled-garden reveal shows how)."
        case .moved(let location):
            return "Then: 301 to \(location) (a folder asked for without its slash)."
        case .missing:
            return "Then: the site has no such page: 404."
        case .censored, .challenged, .proxyAutoConfig:
            return nil
        }
    }
}
