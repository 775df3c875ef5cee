import Foundation
#if canImport(Glibc)
@testable import GardenAudit
import Glibc
#endif

/// The built `walled-garden` running as a process of its own on a small garden made in a
/// temporary folder: for measuring what the garden's memory does, which inside the test
/// process would mix with every other test running beside it.
// @unchecked Sendable: the process and its pipe are set up in init, then used by one test.
final class GardenProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let directory: URL

    /// The `walled-garden` executable that `swift test` built beside the tests.
    static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("walled-garden")
    }

    private init(process: Process, port: Int, directory: URL) {
        self.process = process
        self.port = port
        self.directory = directory
    }

    /// Starts a garden serving `alpha.kp` (a 4 KiB `page.html`) on a free loopback port,
    /// and returns once it answers.
    static func start() async throws -> GardenProcess {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw GardenProcessError("no walled-garden executable at \(executable.path) (swift test builds it)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("garden-process-\(UUID().uuidString)")
        let config = directory.appendingPathComponent("Config")
        let sites = directory.appendingPathComponent("Sites")
        try TestGarden.write("sites:\n  portal.kp:\n    zone: intranet\n  alpha.kp:\n    zone: intranet\n", to: config.appendingPathComponent("sites.yaml"))
        try TestGarden.write("<h1>portal</h1>", to: sites.appendingPathComponent("portal.kp/index.html"))
        try TestGarden.write("<p>" + String(repeating: "page ", count: 820) + "</p>", to: sites.appendingPathComponent("alpha.kp/page.html"))
        // A port the system says is free; another process may take it first, so try again then.
        for _ in 0..<5 {
            let port = try freePort()
            try TestGarden.write(
                "listeners:\n  - address: 127.0.0.1:\(port)\nportal: portal.kp\nlog:\n  path: \(directory.path)/audit.jsonl\nteacher: off\n",
                to: config.appendingPathComponent("garden.yaml")
            )
            let process = Process()
            process.executableURL = executable
            process.arguments = ["--config", config.path, "--sites", sites.path, "--log-level", "error"]
            process.currentDirectoryURL = directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let garden = GardenProcess(process: process, port: port, directory: directory)
            let start = ContinuousClock.now
            while process.isRunning, ContinuousClock.now - start < .seconds(20) {
                if (try? await RawConnection.exchange(port: port, send: Array("GET / HTTP/1.0\r\n\r\n".utf8), timeout: 1).status) == 200 {
                    return garden
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            garden.stop(removingFolder: false)
        }
        throw GardenProcessError("walled-garden did not start serving in \(directory.path)")
    }

    /// The process's resident memory now (VmRSS), in bytes.
    var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    func stop(removingFolder: Bool = true) {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if removingFolder { try? FileManager.default.removeItem(at: directory) }
    }

    /// A loopback port nothing listens on now.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw GardenProcessError("no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct GardenProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A loopback port held by a listening socket (nothing answers on it) until this is freed:
/// for a server that must find its port taken.
final class TakenPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let descriptor = self.descriptor
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 1) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw GardenProcessError("no port to take: errno \(errno)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
