import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import Testing

/// A flood from one client cannot push the lesson's record out of the log: beyond its
/// share, its requests are counted in one line a second, and everyone else's are
/// written as before.
@Suite(.stopsWhatItStarts) struct LogShareTests {
    @Test func aFloodIsCountedNotWrittenOneByOne() async throws {
        // A share of 2 lines a second (bursts of 20): the flood's duration, however a loaded
        // machine stretches it, adds few lines.
        var settings = AuditLogSettings(path: "audit.jsonl")
        settings.perClientRate = 2
        let garden = try await AuditLogTests.garden(settings)
        defer { afterTest { await garden.stop() } }
        let started = ContinuousClock.now
        // 2,000 requests from 127.0.0.1, 100 pipelined on each of 20 connections.
        let one = "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\n\r\n"
        let last = "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n"
        for _ in 0..<20 {
            _ = try await garden.raw(String(repeating: one, count: 99) + last, timeout: 10)
        }
        // Then a classmate, from another address.
        for _ in 0..<5 {
            _ = try await RawConnection.offPool {
                let connection = try RawConnection(port: garden.port, timeout: 5, from: "127.0.0.2")
                connection.send(Array(last.utf8))
                return connection.receive().bytes
            }
        }
        let seconds = Double((ContinuousClock.now - started).components.seconds) + 1
        await garden.server.audit.shutdown()  // writes the last summary line

        let events = try AuditLogTests.events(in: try #require(garden.auditLogPath))
        let flooder = events.filter { $0.client == "127.0.0.1" }
        let summaries = flooder.filter { $0.suppressed != nil }
        // Every request is in the record: one by one or counted.
        #expect(flooder.reduce(0) { $0 + ($1.suppressed ?? 1) } == 2000)
        // Within the share (a burst of 200 and 20 a second), the rest counted.
        let written = flooder.count - summaries.count
        #expect(written >= 20 && Double(written) <= 20 + 2 * seconds, "\(written) lines written one by one in \(seconds) s")
        #expect(!summaries.isEmpty && summaries.allSatisfy { $0.action == "suppressed" && $0.method == "-" })
        // The classmate's requests are all written.
        #expect(events.filter { $0.client == "127.0.0.2" && $0.suppressed == nil }.count == 5)
        // log summary counts the flood.
        var summary = AuditSummary()
        for event in events { summary.add(event) }
        #expect(summary.events == 2005)
        #expect(summary.floods["127.0.0.1"] == summaries.reduce(0) { $0 + ($1.suppressed ?? 0) })
        #expect(summary.lines().contains { $0.hasPrefix("Floods") })
    }

    @Test func aSummaryLineReadsBack() throws {
        let event = AuditEvent(
            time: 1_800_000_000_000, listener: "127.0.0.1:8080", client: "10.0.0.7", visitorClass: "citizen", method: "-", url: "-",
            host: "-", rule: nil, action: "suppressed", status: 0, bytes: 4096, suppressed: 1234
        )
        let line = event.jsonLine()
        #expect(line.contains(#""suppressed":1234"#))
        #expect(try AuditEvent.parse(jsonLine: Substring(line.dropLast()), lineNumber: 1) == event)
        #expect(event.combinedLine().contains("1234 requests beyond this client's share of the log"))
    }
}
