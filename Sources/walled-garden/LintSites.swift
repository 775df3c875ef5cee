import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching

/// `walled-garden lint-sites`: every page of every site, parsed and its links followed.
struct LintSites: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint-sites",
        abstract: "Check every page in Sites/: outside resources, broken links, HTML problems.",
        discussion: """
        Parses each page of each site in sites.yaml with libxml2 and reports, as \
        file:line: message, resources loaded from outside the page's own site, links to \
        hosts the garden does not have, links to pages that do not exist (errors), and \
        what the HTML parser complained about (warnings). Exits non-zero on any error.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @Option(name: .long, help: ArgumentHelp("The folder of site folders.", valueName: "dir"))
    var sites = "Sites"

    @Flag(name: .long, help: "Also print the HTML parser's warnings.")
    var warnings = false

    func run() throws {
        let gardenConfig = try ConfigDirectory(path: config).loadForCommand()
        let lint = SiteLint.run(registry: gardenConfig.sites, sitesDirectory: sites)
        if warnings { for line in lint.warnings { print("warning: \(line)") } }
        for line in lint.errors { print(line) }
        print(
            "lint-sites: \(lint.pagesChecked) pages, \(lint.linksChecked) links and resources; "
                + "\(lint.errors.count) error\(lint.errors.count == 1 ? "" : "s"), \(lint.warnings.count) HTML warning\(lint.warnings.count == 1 ? "" : "s")"
                + (lint.warnings.isEmpty || warnings ? "" : " (--warnings to see them)")
        )
        if !lint.passed { throw ExitCode.failure }
    }
}
