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
        let written = url.contains("://") ? url : "http://" + url
        let visitor = try visitorOptions.visitor(in: policy)
        let identity = policy.visitorClass(account: visitor.account, named: visitor.visitorClass, clientAddress: visitor.clientAddress)
        guard var facts = RequestFacts.forURL(
            written, method: method.uppercased(), visitorClass: identity.0, clientAddress: visitor.clientAddress, sites: gardenConfig.sites
        ) else {
            throw ValidationError("'\(url)' is not an http:// address the garden can explain")
        }
        facts.account = visitor.account
        facts.time = visitor.time
        facts.contentWords = ContentWords.loadingSite(of: written, config: gardenConfig, sitesDirectory: sites)
        let explanation = Explanation(
            policy: policy, request: facts, decision: policy.decide(facts),
            howClassWasFound: identity.1 == "the default class" ? "the default class; say --as to choose another" : identity.1,
            url: written
        )
        print(explanation.lines.joined(separator: "\n"))
    }
}
