import ArgumentParser
import Foundation
import GardenPolicy

/// `walled-garden log`: tools for the surveillance log.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Read the surveillance (audit) log.",
        subcommands: [LogSummary.self]
    )
}

/// `walled-garden log summary FILE...`: top visitors, top blocked hosts, blocks per rule and per class.
struct LogSummary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Sum up an audit log: top visitors, top blocked hosts, censored requests per rule and per class.",
        discussion: """
        Examples:
          walled-garden log summary logs/audit.jsonl
          walled-garden log summary logs/audit.jsonl.1 logs/audit.jsonl --top 20
        """
    )

    @Argument(help: ArgumentHelp("Audit logs in JSON Lines (log.format: json), oldest first.", valueName: "file"))
    var files: [String]

    @Option(help: ArgumentHelp("Rows in the visitor and host tables.", valueName: "n"))
    var top = 10

    func run() throws {
        var summary = AuditSummary()
        try AuditLogReader.read(files) { summary.add($0) }
        print(summary.lines(top: top).joined(separator: "\n"))
    }
}

/// Reads audit events from JSON Lines files; a line that is not an event is reported on
/// stderr (the first few) and skipped, as a line cut short by a running garden may be.
enum AuditLogReader {
    static func read(_ files: [String], each: (AuditEvent) -> Void) throws {
        var skipped = 0
        for file in files {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                do {
                    each(try AuditEvent.parse(jsonLine: line, lineNumber: number + 1))
                } catch {
                    skipped += 1
                    if skipped <= 5 { FileHandle.standardError.write(Data("\(file):\(error.description)\n".utf8)) }
                }
            }
        }
        if skipped > 5 { FileHandle.standardError.write(Data("... \(skipped) lines skipped in all\n".utf8)) }
    }
}
