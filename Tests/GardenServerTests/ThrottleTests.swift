import Foundation
import GardenPolicy
import GardenServer
import Testing

/// The throttle effect over real sockets: an answer leaves at the rule's bytes per
/// second (within ±20%), its first byte waits the rule's latency, an unthrottled answer
/// pipelined behind a throttled one still arrives whole and in order, and the audit log
/// records the effect.
@Suite struct ThrottleTests {
    static let policyText = """
    classes: {citizen: Citizens.}
    default_class: citizen
    rules:
      - id: slow-big
        reason: Big files crawl (Russia slowed Twitter this way in 2021).
        paths: [/big.bin]
        effects: [{throttle: {rate: 32KiB}}]
      - id: late-page
        reason: Pages start late.
        paths: [/page.html]
        effects: [{throttle: {latency: 400ms}}]
    default: allow
    """

    static let bigSize = 64 * 1024

    static func garden() async throws -> TestGarden {
        var files = TestGarden.defaultFiles
        files["alpha.kp/big.bin"] = String(repeating: "0123456789abcdef", count: bigSize / 16)
        return try await TestGarden(
            files: files, policy: try Policy.parse(.init(file: "policy.yaml", text: policyText)), auditLog: AuditLogSettings(path: "audit.jsonl")
        )
    }

    /// Sends `request`, returns the bytes and the seconds until the first and the last byte.
    static func timed(_ request: String, port: Int, until done: @escaping @Sendable ([UInt8]) -> Bool) async throws
        -> (bytes: [UInt8], first: Double, last: Double) {
        try await RawConnection.offPool {
            let connection = try RawConnection(port: port, timeout: 10)
            let start = ContinuousClock.now
            connection.send(Array(request.utf8))
            var firstAt: ContinuousClock.Instant?
            let received = connection.receive { bytes in
                if firstAt == nil, !bytes.isEmpty { firstAt = .now }
                return done(bytes)
            }
            func seconds(_ instant: ContinuousClock.Instant) -> Double {
                let elapsed = instant - start
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
            return (received.bytes, seconds(firstAt ?? .now), seconds(.now))
        }
    }

    @Test func theRateIsHeldWithinAFifth() async throws {
        let garden = try await Self.garden()
        defer { Task { await garden.stop() } }
        let (bytes, _, last) = try await Self.timed(
            "GET /big.bin HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: garden.port
        ) { _ in false }  // to the end: the garden closes after the answer
        let response = RawResponse(bytes: bytes)
        #expect(response.status == 200)
        #expect(response.body.count == Self.bigSize)
        let rate = Double(bytes.count) / last
        #expect(abs(rate - 32 * 1024) / (32 * 1024) < 0.2, "measured \(Int(rate)) bytes/s over \(last) s")
    }

    @Test func theFirstByteWaitsTheLatency() async throws {
        let garden = try await Self.garden()
        defer { Task { await garden.stop() } }
        let (bytes, first, _) = try await Self.timed(
            "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: garden.port
        ) { String(decoding: $0, as: UTF8.self).contains("alpha page") }
        #expect(RawResponse(bytes: bytes).status == 200)
        #expect(first >= 0.38 && first < 1.0, "first byte after \(first) s")
        // An unthrottled page starts at once.
        let (_, quick, _) = try await Self.timed(
            "GET /index.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: garden.port
        ) { String(decoding: $0, as: UTF8.self).contains("alpha home") }
        #expect(quick < 0.3)
    }

    @Test func answersBehindAThrottledOneComeWholeAndInOrder() async throws {
        let garden = try await Self.garden()
        defer { Task { await garden.stop() } }
        let (bytes, _, last) = try await Self.timed(
            "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\n\r\nGET /index.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n",
            port: garden.port
        ) { String(decoding: $0, as: UTF8.self).contains("alpha home") }
        let text = String(decoding: bytes, as: UTF8.self)
        let page = try #require(text.range(of: "alpha page"))
        let home = try #require(text.range(of: "alpha home"))
        #expect(page.lowerBound < home.lowerBound)
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        #expect(last >= 0.38)
    }

    @Test func theAuditLogRecordsTheThrottle() async throws {
        let garden = try await Self.garden()
        defer { Task { await garden.stop() } }
        _ = try await garden.get("/page.html")
        await garden.server.audit.flush()
        let event = try #require(try AuditLogTests.events(in: garden.auditLogPath ?? "").first)
        #expect(event.effects == ["throttle"])
        #expect(event.durationMicroseconds < 400_000)  // queued at once; the wait is the throttle's
    }
}
