import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer

/// `walled-garden desk-password`: a new password for the teacher's desk, its hash kept in
/// `Config/desk-password`. A running garden takes it at once (its watcher reads the file).
struct DeskPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desk-password",
        abstract: "Make a new password for the teacher's desk.",
        discussion: """
        Prints a new password once and keeps only its hash, in Config/desk-password; a \
        running garden takes it within a second, and sessions opened with the old one end. \
        The garden makes the first one itself, at its first start. A password in \
        garden.yaml (teacher: {password: ...}) wins over this file.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @Option(name: .long, help: ArgumentHelp("scrypt's cost as log2 N; each step doubles time and memory.", valueName: "n"))
    var cost = PasswordHash.defaultLogRounds

    func validate() throws {
        guard PasswordHash.acceptedLogRounds.contains(cost) else {
            throw ValidationError("--cost must be between \(PasswordHash.acceptedLogRounds.lowerBound) and \(PasswordHash.acceptedLogRounds.upperBound)")
        }
    }

    func run() throws {
        let directory = ConfigDirectory(path: config)
        guard FileManager.default.fileExists(atPath: directory.file("garden.yaml")) else {
            throw ValidationError("no garden.yaml in \(config); say where the configuration is with --config")
        }
        let password = Self.newPassword()
        let hash = try PasswordHash.make(password: password, logRounds: cost)
        do {
            try directory.writeDeskPassword(hash)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(73)  // EX_CANTCREAT
        }
        print("A new password for the teacher's desk:")
        print("  password: \(password)")
        print("Only its hash is kept, in \(directory.deskPasswordFile); a running garden takes it within a second.")
        // Say so when garden.yaml decides otherwise.
        if let loaded = try? directory.load() {
            if loaded.teacher == nil {
                FileHandle.standardError.write(Data("Note: the desk is off (teacher: off in garden.yaml).\n".utf8))
            } else if loaded.teacher?.passwordHash != hash {
                FileHandle.standardError.write(Data("Note: garden.yaml gives the desk a password (teacher: {password: ...}), which wins; remove it there for this one to count.\n".utf8))
            }
        }
    }

    /// Sixteen characters in four groups (`kq7m-4xtr-9pwd-h3ne`), from 31 letters and
    /// digits that cannot be mistaken for each other when read aloud or off a projector
    /// (no 0/o, 1/l/i): about 79 bits, drawn from the system's secure random source.
    static func newPassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let groups = (0..<4).map { _ in String((0..<4).map { _ in alphabet.randomElement(using: &generator)! }) }
        return groups.joined(separator: "-")
    }
}
