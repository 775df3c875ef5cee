import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching

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
          walled-garden explain https://worldnews.example/    (the CONNECT a browser sends)
        """
    )

    @OptionGroup var visitorOptions: VisitorOptions

    @Option(name: .long, help: ArgumentHelp("The request method.", valueName: "method"))
    var method = "GET"

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @OptionGroup var lessonOptions: LessonOptions

    @Option(name: .long, help: ArgumentHelp("The folder of site folders (read for rules with content_keywords).", valueName: "dir"))
    var sites = "Sites"

    @Argument(help: ArgumentHelp("The address, e.g. http://friend.com.kp/feed.html.", valueName: "url"))
    var url: String

    func run() throws {
        let gardenConfig = try lessonOptions.directory(config).loadForCommand()
        let policy = gardenConfig.policy
        // A browser asks for an https:// page with CONNECT: explained as that tunnel.
        let (written, requestMethod) = Visit.asBrowserAsks(url: url, method: method)
        let visitor = try visitorOptions.visitor(in: policy)
        let identity = policy.visitorClass(account: visitor.account, named: visitor.visitorClass, clientAddress: visitor.clientAddress)
        // Planned as the data plane plans it: the request a browser sends the garden's proxy.
        let visit = Visit(
            url: written, method: requestMethod, persona: visitor.visitorClass, account: visitor.account,
            clientAddress: visitor.clientAddress, time: visitor.time
        )
        let planned: PlannedVisit
        do {
            planned = try VisitPlanner(sites: SiteFolders(config: gardenConfig, directory: sites)).plan(visit)
        } catch {
            throw ValidationError(error.description)
        }
        let how = identity.how == "the default class" ? "the default class; say --as to choose another" : identity.how
        print(VisitExplanation(visit: visit, planned: planned, config: gardenConfig, howClassWasFound: how).lines.joined(separator: "\n"))
    }

}
