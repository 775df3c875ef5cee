import Foundation
import GardenPolicy
import GardenServer
import GardenSites
import Logging
import NIOCore
import Testing

/// Live reload: a saved policy is in force within a second, a broken one is refused while
/// the last good policy keeps serving, and no request fails while policies change.
@Suite(.stopsWhatItStarts) struct ReloadTests {
    static let repository = Shipped.repository

    // @unchecked Sendable: set up in init, then only read (its members are Sendable or lets).
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
                    .replacingOccurrences(of: "  - address: 127.0.0.1:8083\n    persona: soldier_abroad\n", with: "")
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
            let host = try #require(URL(string: url)?.host)
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

    /// Polls `url` until it answers `expected` or the deadline (generous: a loaded CI
    /// machine is slow; the watcher's own period is what the README promises).
    static func waitForStatus(_ expected: Int, of url: String, in garden: LiveGarden) async throws -> Int {
        let start = ContinuousClock.now
        var status = try await garden.status(url)
        // (30 s: the watcher polls every 100 ms, but a loaded run has stalled timers for 10 s.)
        while status != expected, ContinuousClock.now - start < .seconds(30) {
            try await Task.sleep(for: .milliseconds(50))
            status = try await garden.status(url)
        }
        return status
    }

    @Test func aSavedPolicyIsPutInForceByTheWatcher() async throws {
        let garden = try await LiveGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let watch = garden.reloader.watch(every: .milliseconds(100))
        defer { watch.cancel() }
        #expect(try await garden.status("http://friend.com.kp/") == 200)
        try garden.addRule(Self.closeFriends)
        #expect(try await Self.waitForStatus(403, of: "http://friend.com.kp/", in: garden) == 403)
    }

    /// A host list (`Config/lists/*.txt`) saved during the lesson: the watcher sees it too.
    @Test func aSavedHostListIsPutInForceByTheWatcher() async throws {
        let garden = try await LiveGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let watch = garden.reloader.watch(every: .milliseconds(100))
        defer { watch.cancel() }
        #expect(try await garden.status("http://encyclopedia.example/") == 404)  // citizens-stay-inside
        try garden.copy.edit("Config/lists/foreign-news.txt") { $0 + "encyclopedia.example\n" }
        #expect(try await Self.waitForStatus(451, of: "http://encyclopedia.example/", in: garden) == 451)
    }

    /// A page template saved during the lesson: the watcher puts it in force.
    @Test func aSavedTemplateIsPutInForceByTheWatcher() async throws {
        let garden = try await LiveGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let watch = garden.reloader.watch(every: .milliseconds(100))
        defer { watch.cancel() }
        try garden.copy.edit("Config/templates/notfound.mustache") { _ in "{{<layout}}{{$body}}<p>GONE: {{host}}</p>{{/body}}{{/layout}}" }
        let start = ContinuousClock.now
        var page = ""
        while !page.contains("GONE: nowhere.kp"), ContinuousClock.now - start < .seconds(30) {
            try await Task.sleep(for: .milliseconds(50))
            page = try await RawConnection.exchange(
                port: garden.port, send: Array("GET / HTTP/1.1\r\nHost: nowhere.kp\r\nConnection: close\r\n\r\n".utf8), timeout: 5
            ).bodyText
        }
        #expect(
            page.contains("<p>GONE: nowhere.kp</p>"),
            "last reload: \(String(describing: garden.reloader.lastReload)), errors: \(garden.reloader.lastErrors); page: \(page.prefix(200))"
        )
    }

    @Test func aBrokenPolicyIsRefusedAndTheLastGoodOneServes() async throws {
        let garden = try await LiveGarden()
        defer { afterTest { await garden.server.shutdown() } }
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
        defer { afterTest { await garden.server.shutdown() } }
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var seen: [Int] = []
                    for _ in 0..<60 { seen.append(try await garden.status("http://friend.com.kp/")) }
                    return seen
                }
            }
            group.addTask {
                // Each reload is in force at once: a request after it sees its rule.
                var afterReload: [Int] = []
                for round in 0..<10 {
                    try garden.copy.edit("Config/policy.yaml") { text in
                        round % 2 == 0
                            ? text.replacingOccurrences(of: "rules:\n", with: "rules:\n" + Self.closeFriends)
                            : text.replacingOccurrences(of: Self.closeFriends, with: "")
                    }
                    #expect(garden.reloader.reload(reason: "test"), "round \(round)")
                    afterReload.append(try await garden.status("http://friend.com.kp/"))
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(afterReload == (0..<10).map { $0 % 2 == 0 ? 403 : 200 })
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(statuses.count == 240)
        // Under whichever policy was in force: the block page or the page, never a failure.
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 403 }, "\(Set(statuses))")
    }

    /// `sites.yaml` edited during a lesson: a new site is served after the reload, a
    /// removed one is gone, and a site whose folder is missing is refused while the
    /// garden goes on serving what it had.
    @Test func sitesAreAddedAndRemovedLive() async throws {
        let garden = try await LiveGarden()
        defer { afterTest { await garden.server.shutdown() } }
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
