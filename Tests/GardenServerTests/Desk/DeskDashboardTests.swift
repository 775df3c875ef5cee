import Foundation
@testable import GardenAudit
@testable import GardenDesk
import GardenPolicy
@testable import GardenServer
import GardenSites
import Logging
import NIOCore
import Synchronization
import Testing

/// The desk's dashboard over real sockets, attached to a real garden serving the shipped
/// Config/ and Sites/: the live feed delivers an event within a second of the request;
/// a trace explains it; Now and Policy count it; switches write switches.yaml and change
/// what students get; a broken edit shows its `file:line:column` on the Policy page;
/// `/metrics` parses as Prometheus text and is closed without a password.
@Suite(.stopsWhatItStarts) struct DeskDashboardTests {
    /// A garden on the shipped files (a copy of Config/ it may edit), with its desk.
    // @unchecked Sendable: set up in init, then only read (its members are Sendable or lets).
    final class Classroom: @unchecked Sendable {
        let folder: URL
        let configFolder: URL
        let server: GardenServer
        let reloader: ConfigReloader
        let desk: TeacherDeskTests.Desk
        let citizenPort: Int
        let officialPort: Int

        init(deskLogger: Logger? = nil) async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("classroom-\(UUID().uuidString)")
            configFolder = folder.appendingPathComponent("Config")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Shipped.root.appendingPathComponent("Config"), to: configFolder)
            var config = try ConfigDirectory(path: configFolder.path).load()
            config.listeners = [
                .init(address: ListenAddress("127.0.0.1:0")!, persona: "citizen"),
                .init(address: ListenAddress("127.0.0.1:0")!, persona: "official"),
            ]
            var logger = Logger(label: "classroom")
            logger.logLevel = .critical
            let sites = Shipped.root.appendingPathComponent("Sites").path
            let library = try SiteLibrary(root: sites, folders: config.sites.sites.map(\.folder), logger: logger)
            server = GardenServer(config: config, library: library, logger: logger)
            let ports = try await server.start().map { $0.port ?? 0 }
            citizenPort = ports[0]
            officialPort = ports[1]
            let reloader = ConfigReloader(directory: ConfigDirectory(path: configFolder.path), server: server, running: config, logger: logger)
            self.reloader = reloader
            let server = self.server
            desk = try await TeacherDeskTests.Desk(
                audit: server.audit, reloader: reloader, configDirectory: configFolder.path, sitesDirectory: sites,
                openConnections: { server.openConnections }, logger: deskLogger, students: server.students,
                lessonsDirectory: Shipped.lessons.path
            ) { reloader.runningConfig }
        }

        func stop() async {
            desk.stop()
            await server.shutdown()
            try? FileManager.default.removeItem(at: folder)
        }

        /// A student's request through the garden as a proxy.
        func browse(_ url: String, port: Int? = nil) async throws -> RawResponse {
            try await RawConnection.exchange(
                port: port ?? citizenPort, send: Array("GET \(url) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), timeout: 5
            )
        }

        /// A logged-in session's cookie and its CSRF token.
        func session() async throws -> (cookie: String, csrf: String) {
            let login = try await desk.logIn()
            let cookie = try #require(TeacherDeskTests.Desk.sessionCookie(of: login))
            let home = try await desk.get("/", cookie: cookie)
            let html = home.bodyText
            let start = try #require(html.range(of: "name=\"csrf\" value=\""))
            return (cookie, String(html[start.upperBound...].prefix { $0 != "\"" }))
        }
    }

    @Test func theFeedDeliversAnEventWithinASecond() async throws {
        let room = try await Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, _) = try await room.session()
        let port = room.desk.port
        // The viewer connects and waits; the request is made once the stream is open.
        let viewer = Task {
            try await RawConnection.offPool { () -> (text: String, seconds: Double) in
                let connection = try RawConnection(port: port, timeout: 5)
                connection.send(Array("GET /feed/events HTTP/1.1\r\nHost: desk\r\nCookie: \(cookie)\r\n\r\n".utf8))
                let opened = connection.receive { String(decoding: $0, as: UTF8.self).contains("retry: 2000") }
                let asked = ContinuousClock.now
                let student = try RawConnection(port: room.citizenPort, timeout: 5)
                student.send(Array("GET http://worldnews.example/feed-test HTTP/1.1\r\nHost: worldnews.example\r\nConnection: close\r\n\r\n".utf8))
                let received = connection.receive { String(decoding: $0, as: UTF8.self).contains("feed-test") }
                let elapsed = ContinuousClock.now - asked
                return (String(decoding: opened.bytes + received.bytes, as: UTF8.self), Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
            }
        }
        let (text, seconds) = try await viewer.value
        #expect(text.lowercased().contains("content-type: text/event-stream"))
        #expect(text.contains("event: request"))
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("data: ") && $0.contains("feed-test") })
        #expect(line.contains("\"action\":\"unavailable\""))
        #expect(line.contains("\"class\":\"citizen\""))
        #expect(seconds < 1, "the event took \(seconds) s")
    }

    /// Records what is logged at `logLevel` (by default `error`) or above, with the
    /// message's metadata when it has some.
    struct ErrorRecorder: LogHandler {
        let recorded: RecordedMessages
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .error
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let details = event.metadata.map { $0.isEmpty ? "" : " \($0)" } ?? ""
            recorded.messages.withLock { $0.append("\(event.level): \(event.message)\(details)") }
        }
    }

    /// Stopping the desk ends the feed's open streams at once and shuts down gracefully:
    /// the viewer's connection closes, and nothing is logged as an error (cancelling the
    /// server under open connections logged "Waiting on child channel" for each).
    @Test func stoppingTheDeskEndsOpenFeeds() async throws {
        let box = RecordedMessages()
        let room = try await Classroom(deskLogger: Logger(label: "desk") { _ in ErrorRecorder(recorded: box) })
        defer { afterTest { await room.stop() } }
        let (cookie, _) = try await room.session()
        let port = room.desk.port
        let desk = room.desk
        let (closed, seconds) = try await RawConnection.offPool { () -> (Bool, Double) in
            let connection = try RawConnection(port: port, timeout: 10)
            connection.send(Array("GET /feed/events HTTP/1.1\r\nHost: desk\r\nCookie: \(cookie)\r\n\r\n".utf8))
            _ = connection.receive { String(decoding: $0, as: UTF8.self).contains("retry: 2000") }
            let stopped = ContinuousClock.now
            desk.stop()
            let rest = connection.receive()
            let elapsed = ContinuousClock.now - stopped
            return (rest.closedByPeer, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        #expect(closed)
        #expect(seconds < 2, "the feed stayed open \(seconds) s after the desk stopped")
        await desk.task.value
        #expect(box.messages.withLock { $0 } == [])
    }

    /// A shared list of messages for `ErrorRecorder`s (log handlers are copied).
    final class RecordedMessages: Sendable {
        let messages = Mutex<[String]>([])
    }

    @Test func aFloodIsThinnedForTheScreenAndCounted() async throws {
        let room = try await Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, _) = try await room.session()
        let port = room.desk.port
        let count = 400
        let text = try await RawConnection.offPool { () -> String in
            let connection = try RawConnection(port: port, timeout: 5)
            connection.send(Array("GET /feed/events HTTP/1.1\r\nHost: desk\r\nCookie: \(cookie)\r\n\r\n".utf8))
            _ = connection.receive { String(decoding: $0, as: UTF8.self).contains("retry: 2000") }
            // 400 pipelined requests arrive faster than one 20 ms batch can show.
            let student = try RawConnection(port: room.citizenPort, timeout: 5)
            let request = "GET http://friend.com.kp/flood HTTP/1.1\r\nHost: friend.com.kp\r\n\r\n"
            student.send(Array((String(repeating: request, count: count - 1)
                + "GET http://friend.com.kp/last HTTP/1.1\r\nHost: friend.com.kp\r\nConnection: close\r\n\r\n").utf8))
            _ = student.receive()
            return String(decoding: connection.receive { String(decoding: $0, as: UTF8.self).contains("friend.com.kp/last") }.bytes, as: UTF8.self)
        }
        // (Chunked framing puts "\r\n" between batches: one Character, so split on it too.)
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n")
        let shown = lines.filter { $0.hasPrefix("data: {") }.count
        var skipped = 0
        for (index, line) in lines.enumerated() where line == "event: skipped" && index + 1 < lines.count {
            skipped += Int(lines[index + 1].dropFirst("data: ".count)) ?? 0
        }
        #expect(skipped > 0)
        #expect(shown + skipped == count)
        #expect(shown < count)
    }

    @Test func aClickedEventIsExplained() async throws {
        let room = try await Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, _) = try await room.session()
        _ = try await room.browse("http://encyclopedia.example/")
        await room.server.audit.flush()
        let entry = try #require(room.server.audit.feed.subscribe(history: 1).history.last)
        let trace = try await room.desk.get("/trace/\(entry.id)", cookie: cookie)
        #expect(trace.status == 200)
        #expect(trace.bodyText.contains("GET http://encyclopedia.example/ → notfound by rule citizens-stay-inside"))
        #expect(trace.bodyText.contains("The same request under the policy in force now:"))
        #expect(trace.bodyText.contains("citizens-stay-inside — applies"))
        #expect(try await room.desk.get("/trace/\(entry.id)").status == 401)
        #expect(try await room.desk.get("/trace/999999", cookie: cookie).status == 404)
    }

    @Test func nowAndPolicyCountTheRequests() async throws {
        let room = try await Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, _) = try await room.session()
        for _ in 0..<3 { _ = try await room.browse("http://worldnews.example/") }
        _ = try await room.browse("http://worldnews.example/", port: room.officialPort)
        await room.server.audit.flush()
        let now = try await room.desk.get("/now", cookie: cookie).bodyText
        #expect(now.contains("Last 5 minutes: 4 requests, 1 allowed, 3 censored"))
        #expect(now.contains("<tr><td>worldnews.example</td><td class=\"n\">3</td></tr>"))
        // The chart over time: a picture per class, named for screen readers.
        #expect(now.contains("aria-label=\"citizen: 3 requests, 3 censored, in the last 5 minutes\""))
        #expect(now.contains("aria-label=\"official: 1 requests, 0 censored, in the last 5 minutes\""))
        #expect(now.contains("fill=\"#c8524a\""))
        let policy = try await room.desk.get("/policy", cookie: cookie).bodyText
        #expect(policy.contains("<tr><td>foreign-news-unavailable</td>"))
        let row = try #require(policy.components(separatedBy: "<tr>").first { $0.hasPrefix("<td>foreign-news-unavailable</td>") })
        #expect(row.contains("<td class=\"n\">3</td>"))
        let officials = try #require(policy.components(separatedBy: "<tr>").first { $0.hasPrefix("<td>officials-everywhere</td>") })
        #expect(officials.contains("<td class=\"n\">1</td>"))
        #expect(policy.contains("off (switch exam-day)"))
        #expect(policy.contains("Way out: <strong>none</strong>"))
    }

    @Test func thePolicyPageSaysWhoMayLeave() {
        var upstream = UpstreamSettings()
        upstream.mode = .direct
        upstream.classes = ["official", "foreigner"]
        #expect(TeacherDesk.wayOut(upstream) == "Way out: <strong>the real internet</strong>, for foreigner, official; "
            + "pages up to 2048 KiB are read by the censor when a rule looks at words or rewrites.")
        upstream.classes = nil
        upstream.inspectLimitBytes = 0
        #expect(TeacherDesk.wayOut(upstream).contains("for every class the rules let out; pages from outside are not read"))
    }

    @Test func aSwitchWritesTheOverlayAndChangesWhatStudentsGet() async throws {
        let room = try await Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, csrf) = try await room.session()
        #expect(try await room.browse("http://worldnews.example/").status == 451)
        // Without the form's token nothing changes.
        let forged = try await room.desk.post("/switches", form: "switch=foreign-news-blackout&state=off", cookie: cookie)
        #expect(forged.status == 403)
        #expect(!FileManager.default.fileExists(atPath: room.configFolder.appendingPathComponent("switches.yaml").path))

        let flipped = try await room.desk.post("/switches", form: "csrf=\(csrf)&switch=foreign-news-blackout&state=off", cookie: cookie)
        #expect(flipped.status == 303)
        let overlay = try String(contentsOf: room.configFolder.appendingPathComponent("switches.yaml"), encoding: .utf8)
        #expect(overlay.contains("foreign-news-blackout: off"))
        #expect(overlay.contains("exam-day: off"))
        // The blackout is lifted: citizens now meet "the outside does not exist" instead.
        #expect(try await room.browse("http://worldnews.example/").status == 404)
        let page = try await room.desk.get("/switches", cookie: cookie).bodyText
        #expect(page.contains("<strong>Foreign news answers HTTP 451 with the authority named (off: it seems not to exist, a fake 404, like the rest of the outside world)</strong> — <span class=\"ok\">off</span>"))
        #expect(try await room.desk.post("/switches", form: "csrf=\(csrf)&switch=no-such&state=on", cookie: cookie).status == 400)
    }

    @Test func aBrokenEditShowsWhereOnThePolicyPage() async throws {
        let room = try await Classroom()
        defer { afterTest { await room.stop() } }
        let (cookie, _) = try await room.session()
        let file = room.configFolder.appendingPathComponent("policy.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "    action: unavailable", with: "    action: unavailabel").write(to: file, atomically: true, encoding: .utf8)
        #expect(room.reloader.reload(reason: "a test edit") == false)
        let policy = try await room.desk.get("/policy", cookie: cookie).bodyText
        #expect(policy.contains("<strong>refused</strong>"))
        #expect(policy.contains("policy.yaml:"))
        #expect(policy.contains("unknown action &#39;unavailabel&#39; (did you mean &#39;unavailable&#39;?)"))
        // The last good policy still serves.
        #expect(try await room.browse("http://worldnews.example/").status == 451)
    }

    @Test func metricsAreParseablePrometheusText() async throws {
        let room = try await Classroom()
        defer { afterTest { await room.stop() } }
        _ = try await room.browse("http://worldnews.example/")
        _ = try await room.browse("http://friend.com.kp/")
        await room.server.audit.flush()
        #expect(try await room.desk.get("/metrics").status == 401)
        let wrong = "Basic " + Data("prometheus:wrong".utf8).base64EncodedString()
        #expect(try await room.desk.request("GET /metrics HTTP/1.1\r\nHost: desk\r\nAuthorization: \(wrong)\r\nConnection: close\r\n\r\n").status == 401)
        let right = "Basic " + Data("prometheus:teacher".utf8).base64EncodedString()
        let response = try await room.desk.request("GET /metrics HTTP/1.1\r\nHost: desk\r\nAuthorization: \(right)\r\nConnection: close\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        // Every line is a comment or `name{label="value",...} number`.
        let sample = #/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/#
        var samples: [String: Double] = [:]
        for line in response.bodyText.split(separator: "\n") where !line.hasPrefix("#") {
            let match = try #require(String(line).wholeMatch(of: sample), "not Prometheus text: \(line)")
            samples[String(line.split(separator: " ")[0])] = Double(match.output.4)
        }
        #expect(samples["garden_requests_total{class=\"citizen\",action=\"unavailable\",status=\"451\"}"] == 1
            || samples["garden_requests_total{action=\"unavailable\",class=\"citizen\",status=\"451\"}"] == 1, "\(samples.keys.sorted())")
        #expect(samples.keys.contains { $0.hasPrefix("garden_decision_seconds_bucket") })
        #expect(samples["garden_decision_seconds_count"] == 2)
        #expect(samples["garden_audit_dropped_total"] == 0)
        #expect(samples["garden_reloads_total"] == 0)
        #expect(samples["garden_open_connections"] != nil)
    }
}
