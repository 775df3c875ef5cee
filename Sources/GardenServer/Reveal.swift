import Foundation
import GardenPolicy
import GardenRewrite
import GardenSites
import NIOCore

/// `reveal`: a page as the site has it and as a given visitor receives it, with every
/// change the censor's rewriting made — the teacher's view behind the wall.
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
        guard var facts = RequestFacts.forURL(
            url, method: "GET", visitorClass: identity.visitorClass, clientAddress: clientAddress, sites: config.sites,
            wayOutBeside: config.portsBesideWayOut
        ) else { throw Failure(description: "'\(url)' is not an http:// address the garden can read") }
        facts.account = account
        facts.time = time
        guard let host = HostName(authority: facts.host), let site = config.sites.site(for: host) else {
            throw Failure(description: "\(facts.host) is not a site of the garden")
        }
        let folder = sitesDirectory.hasSuffix("/") ? sitesDirectory + site.folder : sitesDirectory + "/" + site.folder
        let content: SiteContent
        do {
            content = try SiteLoader.load(folder: folder).site.content
        } catch {
            throw Failure(description: "\(error)")
        }
        guard case .success(let target) = RequestTarget.parse(method: "GET", uri: url, host: nil, requiresHost: false),
              case .success(let path) = RequestPath.parse(target.pathAndQuery),
              case .file(let file) = content.resolve(path)
        else { throw Failure(description: "\(url) is not a page of \(site.host)") }

        var lines = ["Visitor: \(identity.visitorClass) (\(identity.how))", "Page: \(url) (\(folder)/\(path.relativePath.isEmpty ? "index.html" : path.relativePath))"]
        let original = String(decoding: file.body.readableBytesView, as: UTF8.self)
        facts.contentWords = ContentWords.of(file, keywords: policy.contentKeywords)
        let decision = policy.decide(facts)
        guard decision.action == .allow else {
            lines.append("Decision: \(decision.action), by \(decision.ruleID == "default" ? "the default" : "rule \(decision.ruleID)") — this visitor does not get the page at all.")
            return Reveal(lines: lines, original: original, filtered: "")
        }
        let pages = (try? GardenPages(portalHost: config.sites.portalHost, templates: config.templates)) ?? .builtIn(portalHost: config.sites.portalHost)
        guard let rewrite = PageRewrite(decision: decision, facts: facts, policy: policy, pages: pages, portalHost: config.sites.portalHost),
              file.contentType.hasPrefix("text/html")
        else {
            lines.append("Decision: allow, by \(decision.ruleID == "default" ? "the default" : "rule \(decision.ruleID)"); no rule rewrites this page for this visitor.")
            return Reveal(lines: lines, original: original, filtered: original)
        }
        let rewriters = decision.trace.compactMap { check -> String? in
            guard case .addedEffects(let effects) = check.outcome, effects.contains(where: \.isRewrite)
            else { return nil }
            return check.ruleID
        }
        lines.append("Decision: allow, by \(decision.ruleID == "default" ? "the default" : "rule \(decision.ruleID)"); rewritten by \(rewriters.joined(separator: ", "))")
        let page = HTMLRewriter.rewrite(
            file.body.readableBytesView, plan: rewrite.plan,
            isReachable: PageRewrite.reachability(policy: policy, facts: facts) { config.sites.site(for: $0)?.zone }
        )
        let filtered = String(decoding: page.html, as: UTF8.self)
        lines.append("Changes (\(page.changes.count)):")
        lines += page.changes.map { "  - \($0)" }
        lines.append("Original (-) and what \(identity.visitorClass) receives (+):")
        lines.append(LineDiff.unified(from: original, to: filtered))
        return Reveal(lines: lines, original: original, filtered: filtered)
    }
}
