import ArgumentParser
import Foundation
import GardenServer
import GardenTeaching

/// `walled-garden check`: validate the configuration and the sites without serving.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check Config/ and Sites/ without serving (like nginx -t).",
        discussion: """
        Loads everything the garden would load at start, then runs the policy tests in \
        <config>/tests/*.yaml (a visitor, a URL, the expected action and rule), and checks \
        every lesson pack of the lessons folder the same way (its files over the \
        configuration, its own tests). Exits 0 when the garden would start and every test \
        passes, 1 otherwise; every problem is printed as file:line:column.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @Option(name: .long, help: ArgumentHelp("The folder holding one folder per site.", valueName: "dir"))
    var sites = "Sites"

    @Option(name: .long, help: ArgumentHelp("The folder of lesson packs, each checked over the configuration.", valueName: "dir"))
    var lessons = "Lessons"

    func run() throws {
        let check = ConfigCheck.run(configDirectory: config, sitesDirectory: sites, lessonsDirectory: lessons)
        for line in check.errors { FileHandle.standardError.write(Data("error: \(line)\n".utf8)) }
        for line in check.warnings { print("warning: \(line)") }
        for line in check.testResults { print(line) }
        for line in check.summary { print(line) }
        guard check.passed else {
            FileHandle.standardError.write(Data("walled-garden check: failed.\n".utf8))
            throw ExitCode.failure
        }
        print("walled-garden check: passed.")
    }
}
