import ArgumentParser
import Foundation
import GardenServer

/// `walled-garden check`: validate the configuration and the sites without serving.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check Config/ and Sites/ without serving (like nginx -t).",
        discussion: "Exits 0 when the garden would start, 1 when it would not; every problem is printed as file:line:column."
    )

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @Option(name: .long, help: ArgumentHelp("The folder holding one folder per site.", valueName: "dir"))
    var sites = "Sites"

    func run() throws {
        let check = ConfigCheck.run(configDirectory: config, sitesDirectory: sites)
        for line in check.errors { FileHandle.standardError.write(Data("error: \(line)\n".utf8)) }
        for line in check.warnings { print("warning: \(line)") }
        for line in check.summary { print(line) }
        guard check.passed else {
            FileHandle.standardError.write(Data("walled-garden check: failed; the garden would not start.\n".utf8))
            throw ExitCode.failure
        }
        print("walled-garden check: passed.")
    }
}
