import Foundation
@testable import GardenAudit
import GardenPolicy
import NIOCore
import NIOPosix
import Testing

/// `walled-garden` as a teacher starts it, the built executable in a process of its own:
/// `--listen` may give a listener a persona, a class policy.yaml lacks is refused, and two
/// gardens started from the same folder cannot write the same log.
@Suite(.stopsWhatItStarts) struct ServeCommandTests {
    /// A garden folder: `alpha.kp` (a page), a policy where citizens (the default) are
    /// refused `alpha.kp` and officials are not, and a log in `logs/`.
    final class Folder: Sendable {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        var config: String { root.appendingPathComponent("Config").path }
        var sites: String { root.appendingPathComponent("Sites").path }
        var log: String { root.appendingPathComponent("logs/audit.jsonl").path }

        /// - Parameter desk: whether garden.yaml leaves the teacher's desk on (its default);
        ///   else `teacher: off`, so that gardens started side by side do not share a port.
        init(desk: Bool = false) throws {
            try TestGarden.write("sites:\n  portal.kp:\n    zone: intranet\n  alpha.kp:\n    zone: intranet\n", to: root.appendingPathComponent("Config/sites.yaml"))
            try TestGarden.write(
                "listeners:\n  - address: 127.0.0.1:1\nportal: portal.kp\nlog:\n  path: \(log)\n" + (desk ? "" : "teacher: off\n"),
                to: root.appendingPathComponent("Config/garden.yaml")
            )
            try TestGarden.write("""
                classes:
                  citizen: Citizens.
                  official: Officials.
                default_class: citizen
                rules:
                  - id: alpha-for-officials
                    reason: Officials only.
                    classes: [citizen]
                    hosts: [alpha.kp]
                    action: block
                default: allow
                """, to: root.appendingPathComponent("Config/policy.yaml"))
            try TestGarden.write("<h1>portal</h1>", to: root.appendingPathComponent("Sites/portal.kp/index.html"))
            try TestGarden.write("<h1>alpha</h1>", to: root.appendingPathComponent("Sites/alpha.kp/index.html"))
        }

        deinit { try? FileManager.default.removeItem(at: root) }
    }

    /// A running `walled-garden` (or one of its commands), and what it writes.
    // @unchecked Sendable: the process and its pipes are set up in init, then only read.
    final class Running: @unchecked Sendable {
        let process: Process
        let output = Pipe()
        let errors = Pipe()

        init(_ arguments: [String], in folder: Folder, command: [String] = []) throws {
            process = Process()
            process.executableURL = GardenProcess.executable
            // `serve` gets the folder's configuration and sites; a command its configuration,
            // except `init`, which makes one.
            let configuration = command.first == "init" ? [] : ["--config", folder.config]
            process.arguments = command + configuration + (command.isEmpty ? ["--sites", folder.sites, "--log-level", "error"] : [])
                + arguments
            process.currentDirectoryURL = folder.root
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        /// Waits (off the cooperative threads) for the process to end by itself, at most
        /// `seconds`; its exit status, standard output and standard error, or nil if it
        /// still runs.
        func exit(within seconds: Double) async throws -> (status: Int32, output: String, errors: String)? {
            let process = self.process
            let ended = try await RawConnection.offPool { () -> Bool in
                let deadline = Date().addingTimeInterval(seconds)
                while process.isRunning, Date() < deadline { usleep(20_000) }
                return !process.isRunning
            }
            guard ended else { return nil }
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, printed, text)
        }

        /// Standard output up to and including `marker` (the banner ends with "Press
        /// Ctrl-C to stop."), read as it comes, at most `seconds`.
        func printed(until marker: String, within seconds: Double = 30) async throws -> String {
            let descriptor = output.fileHandleForReading.fileDescriptor
            return try await RawConnection.offPool { () -> String in
                var bytes: [UInt8] = []
                let deadline = Date().addingTimeInterval(seconds)
                var chunk = [UInt8](repeating: 0, count: 4096)
                while Date() < deadline, !String(decoding: bytes, as: UTF8.self).contains(marker) {
                    var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    guard poll(&ready, 1, 100) > 0 else { continue }
                    let count = read(descriptor, &chunk, chunk.count)
                    if count <= 0 { break }
                    bytes += chunk[0..<count]
                }
                return String(decoding: bytes, as: UTF8.self)
            }
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// GETs `http://alpha.kp/` through the garden at `port` once it answers.
    static func alpha(port: Int) async throws -> Int {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(20) {
            if let answer = try? await RawConnection.exchange(
                port: port, send: Array("GET http://alpha.kp/ HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n".utf8), timeout: 2
            ) { return answer.status }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw GardenProcessError("the garden did not answer on port \(port)")
    }

    /// `--listen HOST:PORT=class`: everyone who comes through that listener is of the
    /// class, as with a persona in garden.yaml; without one, of the default class.
    @Test func aListenerOnTheCommandLineCarriesItsPersona() async throws {
        let folder = try Folder()
        let (official, citizen) = (try GardenProcess.freePort(), try GardenProcess.freePort())
        let garden = try Running(["--listen", "127.0.0.1:\(official)=official", "--listen", "127.0.0.1:\(citizen)"], in: folder)
        defer { garden.stop() }
        #expect(try await Self.alpha(port: official) == 200)
        #expect(try await Self.alpha(port: citizen) == 403)
    }

    @Test func aListenersClassThePolicyLacksIsRefused() async throws {
        let folder = try Folder()
        let garden = try Running(["--listen", "127.0.0.1:\(try GardenProcess.freePort())=oficial"], in: folder)
        defer { garden.stop() }
        let ended = try #require(try await garden.exit(within: 30), "it started anyway")
        #expect(ended.status == 64)
        #expect(ended.errors.contains("--listen names the class 'oficial', which policy.yaml does not have; the classes are 'citizen', 'official'"))
    }

    /// A second garden from the same folder would interleave its lines with the first's
    /// and rotate its files: it refuses to start, naming the first.
    @Test func twoGardensCannotWriteOneLog() async throws {
        let folder = try Folder()
        let port = try GardenProcess.freePort()
        let first = try Running(["--listen", "127.0.0.1:\(port)"], in: folder)
        defer { first.stop() }
        #expect(try await Self.alpha(port: port) == 403)
        let second = try Running(["--listen", "127.0.0.1:\(try GardenProcess.freePort())"], in: folder)
        defer { second.stop() }
        let ended = try #require(try await second.exit(within: 30), "the second garden started")
        #expect(ended.status == 73)
        #expect(ended.errors.contains("another walled-garden (process \(first.process.processIdentifier)) is writing the log \(folder.log)"))
        // Once the first has gone, the log is free again.
        first.stop()
        _ = try await first.exit(within: 30)
        let third = try Running(["--listen", "127.0.0.1:\(port)"], in: folder)
        defer { third.stop() }
        #expect(try await Self.alpha(port: port) == 403)
    }

    /// Opened to the classroom, the banner says what students type: this machine's own
    /// addresses, never the wildcard, with the proxy setting and the PAC URL.
    @Test func theBannerGivesStudentsTheMachinesAddresses() async throws {
        let folder = try Folder()
        let port = try GardenProcess.freePort()
        let other = try GardenProcess.freePort()
        let garden = try Running(["--listen", "0.0.0.0:\(port)", "--listen", "0.0.0.0:\(other)=official"], in: folder)
        defer { garden.stop() }
        let whole = try await garden.printed(until: "Press Ctrl-C")
        let banner = try #require(whole.range(of: "For students:").map { String(whole[$0.upperBound...]) }, "\(whole)")
        #expect(!banner.contains("0.0.0.0"), "\(banner)")
        let own = ((try? System.enumerateDevices()) ?? []).compactMap(\.address?.ipAddress)
            .filter { !$0.contains(":") && !$0.hasPrefix("127.") && !$0.hasPrefix("169.254.") }
        if let address = own.first {
            #expect(banner.contains("as citizen: open http://\(address):\(port)/"), "\(banner)")
            #expect(banner.contains("proxy auto-config URL to http://\(address):\(port)/proxy.pac"), "\(banner)")
        } else {
            #expect(banner.contains("this machine has no network address"), "\(banner)")
        }
        // The official's port is not for students: the banner says so instead of giving it.
        #expect(banner.contains("as official: port \(other) answers this machine only"), "\(banner)")
    }

    /// `init DIR` makes an editable garden from installed defaults (here `--from` the
    /// shipped files, as the package's would be, with another garden's secrets beside
    /// them, which stay behind), and never overwrites one.
    @Test func initMakesAnEditableGardenAndNeverOverwritesOne() async throws {
        let folder = try Folder()
        let source = folder.root.appendingPathComponent("source")
        try FileManager.default.copyItem(at: Shipped.root.appendingPathComponent("Config"), to: source.appendingPathComponent("Config"))
        try FileManager.default.copyItem(at: Shipped.root.appendingPathComponent("Sites"), to: source.appendingPathComponent("Sites"))
        for secret in ["desk-password", "classroom-passwords", "garden-ca.key", "garden-ca.pem"] {
            #expect(FileManager.default.createFile(
                atPath: source.appendingPathComponent("Config/\(secret)").path, contents: Data("secret\n".utf8), attributes: [.posixPermissions: 0o600]
            ))
        }
        let target = folder.root.appendingPathComponent("lesson").path
        func initialise() throws -> Running {
            let process = try Running([], in: folder, command: ["init", target, "--from", source.path])
            return process
        }
        let made = try #require(try await initialise().exit(within: 60))
        #expect(made.status == 0, "\(made.errors)")
        #expect(made.output.contains("cd \(target) && walled-garden"))
        #expect(FileManager.default.isWritableFile(atPath: target + "/Config/policy.yaml"))
        #expect(FileManager.default.fileExists(atPath: target + "/Sites/friend.com.kp/index.html"))
        for secret in ["desk-password", "classroom-passwords", "garden-ca.key", "garden-ca.pem"] {
            #expect(!FileManager.default.fileExists(atPath: target + "/Config/" + secret), "\(secret) was copied")
        }
        let again = try #require(try await initialise().exit(within: 60))
        #expect(again.status != 0)
        #expect(again.errors.contains("exists already; init never overwrites a garden"), "\(again.errors)")
    }
}
