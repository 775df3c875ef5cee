import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching

/// `walled-garden matrix`: who sees what, every class against every site.
struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Show what every visitor class gets at every site's home page.",
        discussion: """
        Each cell is what the garden does with the visit, as the running garden would: allow, \
        rewritten, throttled, sign-in, or the censor's style (block, unavailable, notfound, \
        redirect, drop, ...). The teacher's desk draws the same table in colour (/matrix).
        """
    )

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @OptionGroup var lessonOptions: LessonOptions

    @Option(name: .long, help: ArgumentHelp("The folder of site folders.", valueName: "dir"))
    var sites = "Sites"

    @Option(name: .long, help: ArgumentHelp("When the visits are made, e.g. 2026-11-30T09:00+09:00 (default: now).", valueName: "time"))
    var at: String?

    func run() throws {
        let gardenConfig = try lessonOptions.directory(config).loadForCommand()
        var time = Int64(Date().timeIntervalSince1970)
        if let at {
            guard let moment = Schedule.moment(at) else { throw ValidationError("'\(at)' is not a time; write it like 2026-11-30T09:00+09:00") }
            time = moment
        }
        let matrix = ReachabilityMatrix(config: gardenConfig, sitesDirectory: sites, time: time)
        print(matrix.lines.joined(separator: "\n"))
    }
}
