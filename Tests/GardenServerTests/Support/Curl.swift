import Foundation

/// Runs the real `curl` (installed by `.ci/run`), the client the README tells students to use.
enum Curl {
    static func run(_ arguments: [String]) async throws -> String {
        try await RawConnection.offPool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["--max-time", "10"] + arguments
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// What a run of curl printed, and how it ended (curl's exit code: 0 for a transfer
    /// made; 35 for a TLS handshake that failed, 56 for a connection reset while receiving).
    struct Outcome: Sendable {
        var output: String
        var errors: String
        var exitCode: Int32
    }

    static func outcome(_ arguments: [String]) async throws -> Outcome {
        try await RawConnection.offPool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["--max-time", "10", "--silent", "--show-error"] + arguments
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let errorData = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Outcome(
                output: String(decoding: data, as: UTF8.self), errors: String(decoding: errorData, as: UTF8.self), exitCode: process.terminationStatus
            )
        }
    }
}
