import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching

/// `walled-garden lesson`: the lesson packs of `Lessons/`.
struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "The lesson packs: list them, or probe a running lesson.",
        discussion: """
        A lesson pack is a folder of Lessons/ with a lesson.yaml, a teacher's guide and a \
        student worksheet, and the policy, lists and switches the lesson runs with. Run one \
        with walled-garden serve --lesson NAME (or start it from the desk's Lessons page); \
        walled-garden check checks every pack.
        """,
        subcommands: [List.self, ProbeAll.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Show the lesson packs.")

        @Option(name: .long, help: ArgumentHelp("The folder of lesson packs.", valueName: "dir"))
        var lessons = "Lessons"

        func run() throws {
            let (packs, problems) = LessonPack.all(in: lessons)
            for problem in problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
            guard !packs.isEmpty else {
                print("No lesson packs in \(lessons)/.")
                return
            }
            print(TextTable.render(header: ["lesson", "minutes", "title"], rows: packs.map { [$0.name, "\($0.manifest.minutes)", $0.manifest.title] })
                .joined(separator: "\n"))
            print("\nRun one with: walled-garden serve --lesson NAME   (its guide: \(lessons)/NAME/guide.md)")
            if !problems.isEmpty { throw ExitCode.failure }
        }
    }

    /// `walled-garden lesson probe NAME`: the pack's probes against the running garden.
    struct ProbeAll: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "probe",
            abstract: "Probe a running lesson: every address of the pack's probes.yaml, through the listener of its class.",
            discussion: "Start the garden with the lesson first (walled-garden serve --lesson NAME). Exits 1 when a probe does not see what the pack expects."
        )

        @Argument(help: "The lesson pack.")
        var name: String

        @Option(name: .long, help: ArgumentHelp("The folder of lesson packs.", valueName: "dir"))
        var lessons = "Lessons"

        @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
        var config = "Config"

        @Option(name: .long, help: ArgumentHelp("The folder of site folders (the control).", valueName: "dir"))
        var sites = "Sites"

        @Option(name: .long, help: ArgumentHelp("Seconds to wait for each answer.", valueName: "s"))
        var timeout: Double = 10

        func run() throws {
            let pack: LessonPack
            let gardenConfig: GardenConfig
            let probes: [ProbeExpectation]
            do {
                pack = try LessonPack.named(name, in: lessons)
                gardenConfig = try ConfigDirectory(path: config, lesson: pack).load()
                probes = try LessonProbes.expectations(of: pack, classes: gardenConfig.policy.classes)
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(78)
            }
            let listeners = gardenConfig.listeners
            let outcomes = LessonProbes.run(probes, config: gardenConfig, sitesDirectory: sites, timeout: timeout) { visitorClass in
                listeners.first { ($0.persona ?? gardenConfig.policy.defaultClass) == visitorClass }?.address.port
            }
            for outcome in outcomes {
                let probe = outcome.expectation
                let tunnel = probe.connectTo.map { " (CONNECT \($0))" } ?? ""
                print("\(outcome.passed ? "PASS" : "FAIL") as \(probe.visitorClass) \(probe.url)\(tunnel): \(outcome.passed ? outcome.observed : outcome.problem)")
            }
            let failed = outcomes.filter { !$0.passed }.count
            print(failed == 0 ? "lesson \(name): all \(outcomes.count) probes see what the pack expects." : "lesson \(name): \(failed) of \(outcomes.count) probes fail.")
            if failed > 0 { throw ExitCode.failure }
        }
    }
}
