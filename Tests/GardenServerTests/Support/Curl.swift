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
}
