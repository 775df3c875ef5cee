import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching

/// `walled-garden reveal`: the page as the site has it beside what a visitor receives.
struct RevealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reveal",
        abstract: "Show how the censor rewrites a page for a visitor, change by change.",
        discussion: """
        Examples:
          walled-garden reveal http://friend.com.kp/
          walled-garden reveal --as official http://friend.com.kp/
        """
    )





    @OptionGroup var visitorOptions: VisitorOptions

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @OptionGroup var lessonOptions: LessonOptions

    @Option(name: .long, help: ArgumentHelp("The folder of site folders.", valueName: "dir"))
    var sites = "Sites"

    @Argument(help: ArgumentHelp("The page, e.g. http://friend.com.kp/.", valueName: "url"))
    var url: String

    func run() throws {
        let gardenConfig = try lessonOptions.directory(config).loadForCommand()
        let visitor = try visitorOptions.visitor(in: gardenConfig.policy)
        do {
            let reveal = try Reveal.run(
                config: gardenConfig, sitesDirectory: sites, url: url.contains("://") ? url : "http://" + url,
                visitorClass: visitor.visitorClass, account: visitor.account, clientAddress: visitor.clientAddress, time: visitor.time
            )
            print(reveal.lines.joined(separator: "\n"))
        } catch {
            FileHandle.standardError.write(Data("walled-garden reveal: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
