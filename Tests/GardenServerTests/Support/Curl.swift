import Foundation

/// Runs the real `curl` (installed by `.ci/run`), the client the README tells students to use.
enum Curl {
    /// What curl printed on its standard output.
    static func run(_ arguments: [String]) async throws -> String {
        try await outcome(arguments).output
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
            let result = try ChildProcess.run("/usr/bin/curl", ["--max-time", "10", "--silent", "--show-error"] + arguments)
            return Outcome(
                output: String(decoding: result.output, as: UTF8.self), errors: String(decoding: result.errors, as: UTF8.self),
                exitCode: result.exitCode
            )
        }
    }
}
