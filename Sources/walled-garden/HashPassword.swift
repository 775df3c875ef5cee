import ArgumentParser
import Foundation
import GardenPolicy

/// `walled-garden hash-password`: prints the line to put under an account's `password:`.
struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Print a password hash for an account in policy.yaml.",
        discussion: """
        Reads the password from standard input (one line), so it stays out of the shell's \
        history and the process list, and prints a scrypt hash:

          $ walled-garden hash-password
          Password: ********
          $scrypt$ln=16,r=8,p=1$...

        Paste it into Config/policy.yaml:

          accounts:
            kim:
              class: official
              password: "$scrypt$ln=16,r=8,p=1$..."
        """
    )

    @Option(name: .long, help: ArgumentHelp(
        "scrypt's cost as log2 N (\(PasswordHash.acceptedLogRounds.lowerBound)–\(PasswordHash.acceptedLogRounds.upperBound)); each step doubles time and memory.",
        valueName: "n"
    ))
    var cost = PasswordHash.defaultLogRounds

    func validate() throws {
        guard PasswordHash.acceptedLogRounds.contains(cost) else {
            throw ValidationError("--cost must be between \(PasswordHash.acceptedLogRounds.lowerBound) and \(PasswordHash.acceptedLogRounds.upperBound)")
        }
    }

    func run() throws {
        let interactive = isatty(STDIN_FILENO) == 1
        let password: String?
        if interactive {
            password = getpass("Password: ").map { String(cString: $0) }
        } else {
            password = readLine(strippingNewline: true)
        }
        guard let password, !password.isEmpty else {
            FileHandle.standardError.write(Data("no password given\n".utf8))
            throw ExitCode.failure
        }
        if interactive {
            let again = getpass("Again: ").map { String(cString: $0) }
            guard again == password else {
                FileHandle.standardError.write(Data("the two passwords differ\n".utf8))
                throw ExitCode.failure
            }
        }
        print(try PasswordHash.make(password: password, logRounds: cost))
    }
}
