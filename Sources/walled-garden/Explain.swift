import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer

/// `walled-garden explain`: why a visitor gets what they get, rule by rule.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain, rule by rule, what a visitor gets for a URL.",
        discussion: """
        Examples:
          walled-garden explain http://worldnews.example/
          walled-garden explain --as official http://worldnews.example/
          walled-garden explain --as citizen --client 10.1.2.3 http://friend.com.kp/groups/
          walled-garden explain --user kim http://worldnews.example/
          walled-garden explain --at 2026-11-30T10:00+09:00 http://friend.com.kp/
          walled-garden explain --method CONNECT worldnews.example:443
        """
    )





    @OptionGroup var visitorOptions: VisitorOptions

    @Option(name: .long, help: ArgumentHelp("The request method.", valueName: "method"))
    var method = "GET"

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @Option(name: .long, help: ArgumentHelp("The folder of site folders (read for rules with content_keywords).", valueName: "dir"))
    var sites = "Sites"

    @Argument(help: ArgumentHelp("The address, e.g. http://friend.com.kp/feed.html.", valueName: "url"))
    var url: String

    func run() throws {
        let gardenConfig = try ConfigDirectory(path: config).loadForCommand()
        let policy = gardenConfig.policy
        let isTunnel = method.uppercased() == "CONNECT"
        // CONNECT asks for host:port (an https:// address is read as host:443).
        let written: String
        if isTunnel {
            written = url.hasPrefix("https://") ? Self.authority(ofHTTPS: url) : url
        } else {
            written = url.contains("://") ? url : "http://" + url
        }
        let visitor = try visitorOptions.visitor(in: policy)
        let identity = policy.visitorClass(account: visitor.account, named: visitor.visitorClass, clientAddress: visitor.clientAddress)
        guard var facts = RequestFacts.forURL(
            written, method: method.uppercased(), visitorClass: identity.0, clientAddress: visitor.clientAddress, sites: gardenConfig.sites,
            wayOutBeside: gardenConfig.portsBesideWayOut
        ) else {
            throw ValidationError(isTunnel
                ? "'\(url)' is not a host:port the garden can explain (CONNECT asks for e.g. worldnews.example:443)"
                : "'\(url)' is not an http:// address the garden can explain")
        }
        facts.account = visitor.account
        facts.time = visitor.time
        facts.contentWords = ContentWords.loadingSite(of: written, config: gardenConfig, sitesDirectory: sites)
        let decision = policy.decide(facts)
        let explanation = Explanation(
            policy: policy, request: facts, decision: decision,
            howClassWasFound: identity.1 == "the default class" ? "the default class; say --as to choose another" : identity.1,
            url: written
        )
        print(explanation.lines.joined(separator: "\n"))
        // An allowed request for a host without a site: where it goes depends on the way out.
        if decision.action == .allow, facts.zone == nil {
            let upstream = gardenConfig.upstream
            let what = isTunnel ? "the tunnel" : "the page"
            if upstream.letsOut(facts.visitorClass) {
                var line = "Then: \(what) comes from the real host (upstream: direct), if the SSRF guard lets its address through"
                if !isTunnel, upstream.inspectLimitBytes > 0, !policy.contentKeywords.isEmpty || decision.effects.contains(where: \.isRewrite) {
                    line += "; an HTML page up to \(upstream.inspectLimitBytes / 1024) KiB is read by the censor first"
                }
                print(line + ".")
            } else {
                let why = upstream.mode == .direct
                    ? "for \(facts.visitorClass) visitors (upstream classes in garden.yaml)" : "(upstream is off in garden.yaml)"
                print("Then: the garden has no way out \(why): "
                    + (isTunnel ? "502 Bad Gateway." : "the in-world page \"this address does not exist\" (404)."))
            }
        }
    }

    /// `https://host[:port]/...` as the `host:port` a browser's CONNECT asks for.
    static func authority(ofHTTPS url: String) -> String {
        let rest = url.dropFirst("https://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hasPort = authority.hasPrefix("[") ? authority.contains("]:") : authority.contains(":")
        return hasPort ? String(authority) : authority + ":443"
    }
}
