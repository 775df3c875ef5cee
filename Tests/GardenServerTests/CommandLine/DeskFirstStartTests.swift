import Foundation
import GardenPolicy
import GardenServer
import Testing

/// The teacher's desk is ready at the first start: the garden makes its password, shows
/// it once and keeps only its hash (`Config/desk-password`); `desk-password` makes a new
/// one, which the running desk takes at once; `--desk` moves the desk or turns it off; a
/// desk that cannot listen stops the start with the reason, and no banner advertises it.
@Suite(.stopsWhatItStarts) struct DeskFirstStartTests {
    typealias Running = ServeCommandTests.Running
    typealias Desk = TeacherDeskTests.Desk

    /// The password a banner shows, if it shows one.
    static func password(in banner: String) -> String? {
        guard let line = banner.split(separator: "\n").first(where: { $0.contains("password: ") }),
              let range = line.range(of: "password: ")
        else { return nil }
        return String(line[range.upperBound...].prefix { !$0.isWhitespace })
    }

    @Test func theFirstStartMakesThePasswordAndShowsItOnce() async throws {
        let folder = try ServeCommandTests.Folder(desk: true)
        let (port, deskPort) = (try GardenProcess.freePort(), try GardenProcess.freePort())
        let arguments = ["--listen", "127.0.0.1:\(port)", "--desk", "127.0.0.1:\(deskPort)"]
        let first = try Running(arguments, in: folder)
        defer { first.stop() }
        let banner = try await first.printed(until: "Press Ctrl-C")
        #expect(banner.contains("Teacher's desk: http://127.0.0.1:\(deskPort)/"))
        let password = try #require(Self.password(in: banner), "\(banner)")
        #expect(password.count >= 12)
        // Only its hash is kept.
        let stored = try String(contentsOfFile: folder.config + "/desk-password", encoding: .utf8)
        #expect(stored.split(separator: "\n").last?.hasPrefix("$scrypt$") == true, "\(stored)")
        #expect(!stored.contains(password))
        let permissions = try FileManager.default.attributesOfItem(atPath: folder.config + "/desk-password")[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let signedIn = try await Desk.logIn(password: password, port: deskPort)
        #expect(signedIn.status == 303, "\(signedIn.text.prefix(600))")

        // Started again: the same password opens it, and none is shown.
        first.stop()
        _ = try await first.exit(within: 30)
        let again = try Running(arguments, in: folder)
        defer { again.stop() }
        let secondBanner = try await again.printed(until: "Press Ctrl-C")
        #expect(Self.password(in: secondBanner) == nil, "\(secondBanner)")
        #expect(secondBanner.contains("Teacher's desk: http://127.0.0.1:\(deskPort)/"))
        #expect(try await Desk.logIn(password: password, port: deskPort).status == 303)
        #expect(try await Desk.logIn(password: "not-" + password, port: deskPort).status == 401)
    }

    /// `walled-garden desk-password` makes a new password; the running desk takes it.
    @Test func aNewPasswordIsOneCommandAndTakesEffectLive() async throws {
        let folder = try ServeCommandTests.Folder(desk: true)
        let (port, deskPort) = (try GardenProcess.freePort(), try GardenProcess.freePort())
        let garden = try Running(["--listen", "127.0.0.1:\(port)", "--desk", "127.0.0.1:\(deskPort)"], in: folder)
        defer { garden.stop() }
        let old = try #require(Self.password(in: try await garden.printed(until: "Press Ctrl-C")))
        let command = try Running([], in: folder, command: ["desk-password"])
        let made = try #require(try await command.exit(within: 60))
        #expect(made.status == 0, "\(made.errors)")
        let new = try #require(Self.password(in: made.output), "\(made.output)")
        #expect(new != old)
        // The watcher reads it within a second or so.
        var status = 0
        let start = ContinuousClock.now
        while status != 303, ContinuousClock.now - start < .seconds(30) {
            try await Task.sleep(for: .milliseconds(200))
            status = try await Desk.logIn(password: new, port: deskPort).status
        }
        #expect(status == 303)
        #expect(try await Desk.logIn(password: old, port: deskPort).status == 401)
    }

    @Test func aDeskThatCannotListenStopsTheStart() async throws {
        let folder = try ServeCommandTests.Folder(desk: true)
        let taken = try TakenPort()
        let garden = try Running(["--listen", "127.0.0.1:\(try GardenProcess.freePort())", "--desk", "127.0.0.1:\(taken.port)"], in: folder)
        defer { garden.stop() }
        let ended = try #require(try await garden.exit(within: 60), "it started anyway")
        #expect(ended.status == 69)
        #expect(ended.errors.contains("the teacher's desk cannot listen on 127.0.0.1:\(taken.port)"), "\(ended.errors)")
        #expect(ended.errors.contains("--desk"))
        #expect(!ended.output.contains("Teacher's desk"), "the banner advertised a desk that is not running")
        withExtendedLifetime(taken) {}
    }

    @Test func deskOffRunsNoDeskAndMakesNoPassword() async throws {
        let folder = try ServeCommandTests.Folder(desk: true)
        let port = try GardenProcess.freePort()
        let garden = try Running(["--listen", "127.0.0.1:\(port)", "--desk", "off"], in: folder)
        defer { garden.stop() }
        let banner = try await garden.printed(until: "Press Ctrl-C")
        #expect(banner.contains("Teacher's desk: off"))
        #expect(Self.password(in: banner) == nil)
        #expect(!FileManager.default.fileExists(atPath: folder.config + "/desk-password"))
    }

    /// A damaged `desk-password` is a configuration error with its place, like any other.
    @Test func aDamagedPasswordFileIsAConfigError() throws {
        let folder = try ServeCommandTests.Folder(desk: true)
        try TestGarden.write("# kept by the garden\nnot a hash\n", to: folder.root.appendingPathComponent("Config/desk-password"))
        let errors = #expect(throws: ConfigErrors.self) { try ConfigDirectory(path: folder.config).load() }
        #expect(errors?.diagnostics.map(\.description).contains {
            $0.hasPrefix(folder.config + "/desk-password:1:1: the desk's password") && $0.hasSuffix("make a new one with walled-garden desk-password")
        } == true, "\(String(describing: errors))")
    }
}
