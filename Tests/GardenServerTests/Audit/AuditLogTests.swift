import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import Testing

/// The surveillance log over real sockets: one JSON line per request with what the
/// censor decided; cut connections and refused requests logged too; the Combined Log
/// Format; rotation by size; a full queue counted as drops, never waited for.
@Suite(.stopsWhatItStarts) struct AuditLogTests {
    static func garden(_ settings: AuditLogSettings) async throws -> TestGarden {
        let policy = try Policy.parse(.init(file: "policy.yaml", text: CensorStyleTests.policyText))
        return try await TestGarden(policy: policy, personas: [nil, "official"], auditLog: settings)
    }

    static func events(in path: String) throws -> [AuditEvent] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").enumerated().map { number, line in
            try AuditEvent.parse(jsonLine: line, lineNumber: number + 1)
        }
    }

    /// One writer per log: a second open of the same path is refused while the first
    /// holds it, and allowed once the first has closed it.
    @Test func aLogHasOneWriterAtATime() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("one-writer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = AuditLogSettings(path: folder.appendingPathComponent("audit.jsonl").path)
        var first: AuditLogFile? = try AuditLogFile(settings: settings)
        #expect(first != nil)
        let refusal = #expect(throws: AuditLogError.self) { try AuditLogFile(settings: settings) }
        #expect(refusal?.message.contains("another walled-garden (process \(getpid())) is writing the log") == true)
        first = nil
        #expect(throws: Never.self) { _ = try AuditLogFile(settings: settings) }
    }

    @Test func everyRequestIsOneJSONLine() async throws {
        let garden = try await Self.garden(AuditLogSettings(path: "audit.jsonl"))
        defer { afterTest { await garden.stop() } }
        let before = AuditTrailClock.now()
        _ = try await garden.get("/page.html", headers: ["User-Agent: curl/7.88", "Referer: http://portal.kp/"])
        _ = try await garden.get("/block/x")
        _ = try await garden.raw("GET http://outside.example/ HTTP/1.1\r\nHost: outside.example\r\nConnection: close\r\n\r\n")
        _ = try await garden.get("/drop/x")
        _ = try await garden.get("/page.html", port: garden.ports[1])
        _ = try await garden.raw("GARBAGE\r\n\r\n")
        await garden.server.audit.flush()

        let events = try Self.events(in: try #require(garden.auditLogPath))
        try #require(events.count == 6, "\(events)")
        let allowed = events[0]
        #expect(allowed.method == "GET")
        #expect(allowed.url == "http://alpha.kp/page.html")
        #expect(allowed.host == "alpha.kp")
        #expect(allowed.zone == "intranet")
        #expect(allowed.visitorClass == "citizen")
        #expect(allowed.client == "127.0.0.1")
        #expect(allowed.listener == "127.0.0.1:0")
        #expect(allowed.rule == "default")
        #expect(allowed.action == "allow")
        #expect(allowed.shadow == [AuditEvent.Shadow(rule: "maybe-page", action: "block")])
        #expect(allowed.status == 200)
        #expect(allowed.bytes > 18)
        #expect(allowed.userAgent == "curl/7.88")
        #expect(allowed.referer == "http://portal.kp/")
        #expect(allowed.time >= before - 1000 && allowed.time <= AuditTrailClock.now() + 1000)
        #expect(allowed.decisionNanoseconds > 0)

        #expect(events[1].rule == "blocked" && events[1].action == "block" && events[1].status == 403)
        #expect(events[2].url == "http://outside.example/" && events[2].action == "notfound" && events[2].status == 404)
        #expect(events[3].action == "drop" && events[3].status == 0 && events[3].bytes == 0)
        #expect(events[4].visitorClass == "official" && events[4].rule == "see-all")
        #expect(events[5].action == "refused" && events[5].rule == nil && events[5].status == 400)
    }

    @Test func monitoredRequestsCarryTheirEffect() async throws {
        let garden = try await Self.garden(AuditLogSettings(path: "audit.jsonl"))
        defer { afterTest { await garden.stop() } }
        _ = try await garden.get("/docs/guide.html")
        await garden.server.audit.flush()
        let event = try #require(Self.events(in: garden.auditLogPath ?? "").first)
        #expect(event.effects == ["monitor"])
        #expect(event.action == "allow")
    }

    @Test func combinedLogFormat() async throws {
        var settings = AuditLogSettings(path: "access.log")
        settings.format = .combined
        let garden = try await Self.garden(settings)
        defer { afterTest { await garden.stop() } }
        _ = try await garden.get("/block/x?q=1", headers: ["User-Agent: Mozilla/5.0 \"quoted\"", "Referer: http://portal.kp/"])
        await garden.server.audit.flush()
        let line = try String(contentsOfFile: try #require(garden.auditLogPath), encoding: .utf8)
        // 127.0.0.1 - - [28/Nov/2026:19:20:01 +0000] "GET http://alpha.kp/block/x?q=1 HTTP/1.1" 403 1234 "ref" "ua"
        let pattern = #/^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET http://alpha\.kp/block/x\?q=1 HTTP/1\.1" 403 \d+ "http://portal\.kp/" "Mozilla/5\.0 \\x22quoted\\x22"\n$/#
        #expect(line.wholeMatch(of: pattern) != nil, "\(line)")
    }

    @Test func theLogRotatesBySizeAndKeepsTheNewest() async throws {
        var settings = AuditLogSettings(path: "audit.jsonl")
        settings.maxBytes = 4096
        settings.keep = 2
        let garden = try await Self.garden(settings)
        defer { afterTest { await garden.stop() } }
        let path = try #require(garden.auditLogPath)
        // About 330 bytes per line: 60 requests make five files' worth; two are kept.
        for _ in 0..<6 {
            let pipelined = String(repeating: "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\n\r\n", count: 10)
            _ = try await garden.raw(pipelined + "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n")
            await garden.server.audit.flush()
        }
        let manager = FileManager.default
        #expect(manager.fileExists(atPath: path))
        #expect(manager.fileExists(atPath: path + ".1"))
        #expect(manager.fileExists(atPath: path + ".2"))
        #expect(!manager.fileExists(atPath: path + ".3"))
        for file in [path, path + ".1", path + ".2"] {
            let size = try #require(try manager.attributesOfItem(atPath: file)[.size] as? Int)
            #expect(size <= 4096)
            // Rotation happens between lines: every file is whole JSON lines.
            #expect(try Self.events(in: file).count > 0)
        }
    }

    @Test func aFullQueueDropsAndCountsNeverWaits() async throws {
        var settings = AuditLogSettings(path: "audit.jsonl")
        settings.queueCapacity = 16
        let garden = try await Self.garden(settings)
        defer { afterTest { await garden.stop() } }
        // 2,000 pipelined requests arrive in a few reads and are answered within a few of the
        // writer's 20 ms naps: the queue holds 16 of them at a time, so most are dropped
        // (300 were not always enough on a machine where the writer woke in between).
        let count = 2000
        let pipelined = String(repeating: "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\n\r\n", count: count - 1)
            + "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n"
        let response = try await garden.raw(pipelined, timeout: 20)
        #expect(response.text.components(separatedBy: "HTTP/1.1 200 OK").count - 1 == count)
        await garden.server.audit.shutdown()  // writes the last flood summary too
        // Lines written one by one, and those a client's share of the log summed up.
        let logged = try Self.events(in: try #require(garden.auditLogPath)).reduce(0) { $0 + ($1.suppressed ?? 1) }
        let dropped = garden.server.audit.droppedEvents
        #expect(dropped > 0)
        #expect(logged + dropped == count)
        let metrics = garden.server.audit.metrics.exposition(openConnections: 0, feedViewers: 0)
        #expect(metrics.contains("garden_audit_dropped_total \(dropped)"))
    }
}

/// Wall-clock milliseconds, as the audit log stamps events.
enum AuditTrailClock {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
