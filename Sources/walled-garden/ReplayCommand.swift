import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching

/// `walled-garden replay LOG --config CANDIDATE`: what an edited policy would decide for
/// every request in the log.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run every logged request through a candidate policy and show which decisions would change.",
        discussion: """
        Copy Config/ to try an edit without touching the running garden, then:
          cp -r Config Config-new && $EDITOR Config-new/policy.yaml
          walled-garden replay logs/audit.jsonl --config Config-new
        A logged visitor keeps their account, listener persona or class; requests refused
        before the policy (malformed, a wrong password) are not replayed.
        """
    )

    @Argument(help: ArgumentHelp("Audit logs in JSON Lines, oldest first.", valueName: "log"))
    var logs: [String]

    @Option(name: .long, help: ArgumentHelp("The candidate configuration folder.", valueName: "dir"))
    var config: String

    @Option(name: .long, help: ArgumentHelp("The folder of site folders (read for rules with content_keywords).", valueName: "dir"))
    var sites = "Sites"

    func run() throws {
        let candidate = try ConfigDirectory(path: config).loadForCommand()
        var events: [AuditEvent] = []
        try AuditLogReader.read(logs) { events.append($0) }
        let replay = Replay.run(events, candidate: candidate, sitesDirectory: sites)
        print(replay.lines.joined(separator: "\n"))
    }
}
