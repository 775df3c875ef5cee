import Foundation
import GardenPolicy
import GardenServer
import GardenSites
import Logging
import NIOCore
import Testing

/// Live reload: a saved policy is in force within a second, a broken one is refused while
/// the last good policy keeps serving, and no request fails while policies change.
@Suite struct ReloadTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    final class LiveGarden: @unchecked Sendable {
        let copy: ConfigCheckTests.Copy
        let server: GardenServer
        let reloader: ConfigReloader
        let port: Int

        init() async throws {
            copy = try ConfigCheckTests.Copy()
            // One ephemeral listener for a citizen, instead of the shipped fixed ports.
            try copy.edit("Config/garden.yaml") { text in
                text.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:0")
                    .replacingOccurrences(of: "  - address: 127.0.0.1:8081\n    persona: official\n", with: "")
                    .replacingOccurrences(of: "  - address: 127.0.0.1:8082\n    persona: foreigner\n", with: "")
            }
            var logger = Logger(label: "reload-test")
            logger.logLevel = .critical
            let directory = ConfigDirectory(path: copy.config)
            let config = try directory.load()
            let library = try SiteLibrary(root: copy.sites, folders: config.sites.sites.map(\.folder), logger: logger)
            server = GardenServer(config: config, library: library, logger: logger)
            port = try await server.start().first?.port ?? 0
            reloader = ConfigReloader(directory: directory, server: server, running: config, logger: logger)
        }

        func status(_ url: String) async throws -> Int {
            let host = URL(string: url)!.host!
            let response = try await RawConnection.exchange(
                port: port, send: Array("GET \(url) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8), timeout: 5
            )
            return response.status
        }

        func addRule(_ rule: String) throws {
            try copy.edit("Config/policy.yaml") { $0.replacingOccurrences(of: "rules:\n", with: "rules:\n" + rule) }
        }
    }

    static let closeFriends = "  - id: no-friends\n    reason: Closed today.\n    hosts: [friend.com.kp]\n    action: block\n"

    @Test func aSavedPolicyIsInForceWithinASecond() async throws {
        let garden = try await LiveGarden()
        defer { Task { await garden.server.shutdown() } }
        let watch = garden.reloader.watch(every: .milliseconds(100))
        defer { watch.cancel() }
        #expect(try await garden.status("http://friend.com.kp/") == 200)
        try garden.addRule(Self.closeFriends)
        let start = ContinuousClock.now
        var status = 200
        while status != 403, ContinuousClock.now - start < .seconds(1) {
            try await Task.sleep(for: .milliseconds(50))
            status = try await garden.status("http://friend.com.kp/")
        }
        #expect(status == 403)
    }

    @Test func aBrokenPolicyIsRefusedAndTheLastGoodOneServes() async throws {
        let garden = try await LiveGarden()
        defer { Task { await garden.server.shutdown() } }
        try garden.addRule(Self.closeFriends)
        #expect(garden.reloader.reload(reason: "test"))
        #expect(try await garden.status("http://friend.com.kp/") == 403)
        try garden.copy.edit("Config/policy.yaml") { $0.replacingOccurrences(of: "action: block", with: "action: blok") }
        #expect(!garden.reloader.reload(reason: "test"))
        #expect(garden.reloader.lastErrors.first?.contains("unknown action 'blok' (did you mean 'block'?)") == true)
        #expect(try await garden.status("http://friend.com.kp/") == 403)
        try garden.copy.edit("Config/policy.yaml") { $0.replacingOccurrences(of: "action: blok", with: "action: allow") }
        #expect(garden.reloader.reload(reason: "test"))
        #expect(garden.reloader.lastErrors.isEmpty)
        #expect(try await garden.status("http://friend.com.kp/") == 200)
    }

    @Test func noRequestFailsWhilePoliciesChange() async throws {
        let garden = try await LiveGarden()
        defer { Task { await garden.server.shutdown() } }
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var seen: [Int] = []
                    for _ in 0..<60 { seen.append(try await garden.status("http://friend.com.kp/")) }
                    return seen
                }
            }
            group.addTask {
                for round in 0..<10 {
                    try garden.copy.edit("Config/policy.yaml") { text in
                        round % 2 == 0
                            ? text.replacingOccurrences(of: "rules:\n", with: "rules:\n" + Self.closeFriends)
                            : text.replacingOccurrences(of: Self.closeFriends, with: "")
                    }
                    garden.reloader.reload(reason: "test")
                    try await Task.sleep(for: .milliseconds(20))
                }
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(statuses.count == 240)
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 403 }, "\(Set(statuses))")
    }

    /// `sites.yaml` edited during a lesson: a new site is served after the reload, a
    /// removed one is gone, and a site whose folder is missing is refused while the
    /// garden goes on serving what it had.
    @Test func sitesAreAddedAndRemovedLive() async throws {
        let garden = try await LiveGarden()
        defer { Task { await garden.server.shutdown() } }
        let folder = garden.copy.root.appendingPathComponent("Sites/museum.kp")
        try TestGarden.write("<h1>museum</h1>", to: folder.appendingPathComponent("index.html"))
        #expect(try await garden.status("http://museum.kp/") == 404)
        try garden.copy.edit("Config/sites.yaml") {
            $0.replacingOccurrences(of: "sites:\n", with: "sites:\n  museum.kp:\n    title: Museum\n    zone: intranet\n\n")
        }
        #expect(garden.reloader.reload(reason: "test"))
        #expect(try await garden.status("http://museum.kp/") == 200)

        // A site whose folder does not exist: refused, and the garden serves as before.
        try garden.copy.edit("Config/sites.yaml") {
            $0.replacingOccurrences(of: "  museum.kp:\n", with: "  zoo.kp:\n    zone: intranet\n  museum.kp:\n")
        }
        #expect(!garden.reloader.reload(reason: "test"))
        #expect(garden.reloader.lastErrors.first?.contains("zoo.kp") == true, "\(garden.reloader.lastErrors)")
        #expect(try await garden.status("http://museum.kp/") == 200)

        // Removing it takes it off the network.
        try garden.copy.edit("Config/sites.yaml") {
            $0.replacingOccurrences(of: "  zoo.kp:\n    zone: intranet\n  museum.kp:\n    title: Museum\n    zone: intranet\n\n", with: "")
        }
        #expect(garden.reloader.reload(reason: "test"))
        #expect(try await garden.status("http://museum.kp/") == 404)
        #expect(try await garden.status("http://friend.com.kp/") == 200)
    }
}
