import Foundation
import GardenPolicy
import GardenRewrite
import GardenServer
import GardenSites
import NIOCore

/// `reveal`: a page as the site has it and as a given visitor receives it, with every
/// change the censor's rewriting made — the teacher's view behind the wall. The request
/// is planned by the data plane's own planner (`VisitPlanner`).
public struct Reveal: Sendable {
    /// The report, line by line: who, what was decided, the changes, the diff.
    public var lines: [String]
    /// The page as the site has it and as the visitor gets it (equal when nothing changed).
    public var original: String
    public var filtered: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - visitorClass: the class (`--as`); the account's class wins when `account` is given.
    ///   - time: when the request is made, seconds since 1970.
    public static func run(
        config: GardenConfig, sitesDirectory: String, url: String, visitorClass: String?, account: String?,
        clientAddress: [UInt8]?, time: Int64
    ) throws(Failure) -> Reveal {
        let policy = config.policy
        let identity = policy.visitorClass(account: account, named: visitorClass, clientAddress: clientAddress)
        let sites = SiteFolders(config: config, directory: sitesDirectory)
        let visit = Visit(url: url, persona: visitorClass, account: account, clientAddress: clientAddress, time: time)
        let planned: PlannedVisit
        do {
            planned = try VisitPlanner(sites: sites).plan(visit)
        } catch {
            throw Failure(description: error.description)
        }
        guard let facts = planned.facts, let decision = planned.decision else {
            throw Failure(description: "\(url) is refused before the censor sees it (\(planned.outcome))")
        }
        guard let host = HostName(authority: facts.host), let site = config.sites.site(for: host) else {
            throw Failure(description: "\(facts.host) is not a site of the garden")
        }
        let folder = sites.folder(of: site)
        guard let content = sites.content(of: site) else { throw Failure(description: "\(folder) cannot be read") }
        guard case .success(let target) = RequestTarget.parse(method: "GET", uri: url, host: nil, requiresHost: false),
              case .success(let path) = RequestPath.parse(target.pathAndQuery),
              case .file(let file) = content.resolve(path)
        else { throw Failure(description: "\(url) is not a page of \(site.host)") }

        var lines = ["Visitor: \(identity.visitorClass) (\(identity.how))", "Page: \(url) (\(folder)/\(path.relativePath.isEmpty ? "index.html" : path.relativePath))"]
        let original = String(decoding: file.body.readableBytesView, as: UTF8.self)
        let by = decision.ruleID == "default" ? "the default" : "rule \(decision.ruleID)"
        guard decision.action == .allow else {
            lines.append("Decision: \(decision.action), by \(by) — this visitor does not get the page at all.")
            return Reveal(lines: lines, original: original, filtered: "")
        }
        guard planned.outcome == .rewrittenPage, let page = planned.rewrittenPage() else {
            lines.append("Decision: allow, by \(by); no rule rewrites this page for this visitor.")
            return Reveal(lines: lines, original: original, filtered: original)
        }
        let rewriters = decision.trace.compactMap { check -> String? in
            guard case .addedEffects(let effects) = check.outcome, effects.contains(where: \.isRewrite)
            else { return nil }
            return check.ruleID
        }
        lines.append("Decision: allow, by \(by); rewritten by \(rewriters.joined(separator: ", "))")
        let filtered = String(decoding: page.html, as: UTF8.self)
        lines.append("Changes (\(page.changes.count)):")
        lines += page.changes.map { "  - \($0)" }
        lines.append("Original (-) and what \(identity.visitorClass) receives (+):")
        lines.append(LineDiff.unified(from: original, to: filtered))
        return Reveal(lines: lines, original: original, filtered: filtered)
    }
}
