import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching

/// `walled-garden classroom`: the class roster (Config/classroom.yaml).
struct ClassroomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classroom",
        abstract: "The class roster: students' passwords and sign-in cards.",
        subcommands: [Passwords.self, List.self],
        defaultSubcommand: List.self
    )

    /// `walled-garden classroom passwords`: makes the students' passwords.
    struct Passwords: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwords",
            abstract: "Make passwords for the students of classroom.yaml and print them once.",
            discussion: """
            Students without a password get one (with --all, everyone gets a new one and the \
            old ones stop working). Only the hashes are kept, in Config/classroom-passwords; a \
            running garden takes them within a second. The passwords are printed once: as a \
            table here, and with --cards as a page of sign-in cards to print. The desk's Class \
            page does the same with one click.
            """
        )

        @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
        var config = "Config"

        @Flag(name: .long, help: "New passwords for every student, not only those without one.")
        var all = false

        @Option(name: .long, help: ArgumentHelp("Also write the sign-in cards to this HTML file, to print.", valueName: "file"))
        var cards: String?

        @Option(name: .long, help: ArgumentHelp("scrypt's cost as log2 N; each step doubles time and memory.", valueName: "n"))
        var cost = PasswordHash.defaultLogRounds

        func validate() throws {
            guard PasswordHash.acceptedLogRounds.contains(cost) else {
                throw ValidationError("--cost must be between \(PasswordHash.acceptedLogRounds.lowerBound) and \(PasswordHash.acceptedLogRounds.upperBound)")
            }
        }

        func run() throws {
            let directory = ConfigDirectory(path: config)
            let roster = try ClassroomCommand.roster(in: directory)
            let made: [ClassroomPasswords.Card]
            do {
                made = try ClassroomPasswords.make(for: roster, in: directory, everyone: all, logRounds: cost)
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(73)  // EX_CANTCREAT
            }
            guard !made.isEmpty else {
                print("Every student has a password already (--all makes new ones for everyone).")
                return
            }
            print(TextTable.render(header: ["student", "class", "password"], rows: made.map { [$0.student, $0.visitorClass, $0.password] })
                .joined(separator: "\n"))
            print("Only the hashes are kept, in \(directory.classroomPasswordsFile); a running garden takes them within a second.")
            if let cards {
                let loaded = try? directory.load()
                let addresses = loaded.map(SignInCards.addresses) ?? []
                let html = SignInCards.html(cards: made, addresses: addresses)
                guard FileManager.default.createFile(atPath: cards, contents: Data(html.utf8), attributes: [.posixPermissions: 0o600]) else {
                    FileHandle.standardError.write(Data("cannot write \(cards)\n".utf8))
                    throw ExitCode(73)
                }
                print("The cards are in \(cards): print it, then delete it.")
            }
        }
    }

    /// `walled-garden classroom list`: the roster, with who has a password.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Show the class roster.")

        @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
        var config = "Config"

        func run() throws {
            let roster = try ClassroomCommand.roster(in: ConfigDirectory(path: config))
            print(TextTable.render(
                header: ["student", "class", "password"], rows: roster.students.map { [$0.name, $0.visitorClass, $0.hasPassword ? "yes" : "not yet"] }
            ).joined(separator: "\n"))
        }
    }

    /// The roster of a valid configuration; its errors, as `file:line:column`, otherwise.
    static func roster(in directory: ConfigDirectory) throws -> ClassRoster {
        let config: GardenConfig
        do {
            config = try directory.load()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        guard !config.roster.students.isEmpty else {
            FileHandle.standardError.write(Data("No students: write them in \(directory.file("classroom.yaml")), as `students: {name: class}`.\n".utf8))
            throw ExitCode(78)
        }
        return config.roster
    }
}
