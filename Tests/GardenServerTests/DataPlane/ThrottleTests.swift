import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import Testing

/// The throttle effect over real sockets: an answer leaves at the rule's bytes per
/// second (within ±20%), its first byte waits the rule's latency, an unthrottled answer
/// pipelined behind a throttled one still arrives whole and in order, and the audit log
/// records the effect.
@Suite(.stopsWhatItStarts) struct ThrottleTests {
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
      - id: late-and-slow
        reason: Both at once, as a censor slows a whole country's access.
        paths: [/both.bin]
        effects: [{throttle: {rate: 32KiB, latency: 300ms}}]
    default: allow
    """

    static let bigSize = 64 * 1024

    static func garden(limits: ServerLimits = ServerLimits()) async throws -> TestGarden {
        var files = TestGarden.defaultFiles
        files["alpha.kp/big.bin"] = String(repeating: "0123456789abcdef", count: bigSize / 16)
        files["alpha.kp/both.bin"] = String(repeating: "0123456789abcdef", count: bigSize / 16)
        return try await TestGarden(
            files: files, limits: limits, policy: try Policy.parse(.init(file: "policy.yaml", text: policyText)),
            auditLog: AuditLogSettings(path: "audit.jsonl")
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
        defer { afterTest { await garden.stop() } }
        let (bytes, _, last) = try await Self.timed(
            "GET /big.bin HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: garden.port
        ) { _ in false }  // to the end: the garden closes after the answer
        let response = RawResponse(bytes: bytes)
        #expect(response.status == 200)
        #expect(response.body.count == Self.bigSize)
        let rate = Double(bytes.count) / last
        // Never faster than the rule (within a fifth); slower only as far as a loaded
        // machine delays the pacing timer.
        #expect(rate < 32 * 1024 * 1.2 && rate > 32 * 1024 * 0.25, "measured \(Int(rate)) bytes/s over \(last) s")
    }

    @Test func theFirstByteWaitsTheLatency() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let (bytes, first, _) = try await Self.timed(
            "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: garden.port
        ) { String(decoding: $0, as: UTF8.self).contains("alpha page") }
        #expect(RawResponse(bytes: bytes).status == 200)
        #expect(first >= 0.38 && first < 2.0, "first byte after \(first) s")
        // An unthrottled page asked for at the same moment as a throttled one is whole
        // before the throttled one's first byte: it does not wait the latency. (Raced, not
        // timed against a bound: a loaded machine delays both alike.)
        // Up to three races: on a loaded machine one page alone has taken 0.9 s.
        let port = garden.port
        var races: [String] = []
        for _ in 0..<3 {
            async let slow = Self.timed(
                "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: port
            ) { String(decoding: $0, as: UTF8.self).contains("alpha page") }
            async let quick = Self.timed(
                "GET /index.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: port
            ) { String(decoding: $0, as: UTF8.self).contains("alpha home") }
            let (throttled, unthrottled) = try await (slow, quick)
            races.append("the unthrottled page took \(unthrottled.last) s, the throttled one began at \(throttled.first) s")
            if unthrottled.last < throttled.first { break }
            if races.count == 3 { Issue.record("in three races: \(races)") }
        }
    }

    /// A rate and a latency together, on four connections at once: each waits the latency,
    /// then gets the rate of its own (the throttle is per answer, not shared).
    @Test func aRateAndALatencyTogetherHoldOnEveryConnection() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let port = garden.port
        let results = try await withThrowingTaskGroup(of: (bytes: [UInt8], first: Double, last: Double).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await Self.timed("GET /both.bin HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: port) { _ in false }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4)
        for result in results {
            #expect(RawResponse(bytes: result.bytes).body.count == Self.bigSize)
            #expect(result.first >= 0.28, "first byte after \(result.first) s")
            // 64 KiB at 32 KiB/s after the latency: about 2.3 s (never faster by more than a
            // fifth; slower as far as a loaded machine delays the pacing timer).
            let rate = Double(result.bytes.count) / (result.last - 0.3)
            #expect(rate < 32 * 1024 * 1.2 && rate > 32 * 1024 * 0.25, "measured \(Int(rate)) bytes/s")
        }
    }

    /// Ctrl-C while an answer is being sent: the garden stops listening at once, and the
    /// answer in flight (two seconds of a throttled file) finishes within the grace.
    @Test func theShutdownGraceLetsAnAnswerInFlightFinish() async throws {
        var limits = ServerLimits()
        limits.shutdownGrace = .seconds(10)
        let garden = try await Self.garden(limits: limits)
        let port = garden.port
        // Shutdown comes once the answer's first bytes have arrived: it is in flight.
        let began = Once()
        let download = Task {
            let result = try await Self.timed("GET /big.bin HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n", port: port) { bytes in
                if !bytes.isEmpty { _ = began.claim() }
                return false
            }
            return (result.bytes, ContinuousClock.now)
        }
        try await waitUntil("the download has begun") { began.isClaimed }
        let stopping = ContinuousClock.now
        await garden.server.shutdown()
        let stopped = ContinuousClock.now
        let (bytes, downloaded) = try await download.value
        #expect(RawResponse(bytes: bytes).body.count == Self.bigSize, "the answer in flight was cut")
        // It waited for the answer (the server closes once the last byte is out, so the
        // download ends about when the shutdown does), not for the whole grace. (Not a
        // bound on the seconds: a loaded run has woken a 300 ms sleep seconds late.)
        #expect(stopped >= downloaded - .milliseconds(500), "shutdown ended \(downloaded - stopped) before the download")
        #expect(stopped - stopping < .seconds(8), "shutdown took \(stopped - stopping)")
        #expect(throws: (any Error).self) { try RawConnection(port: port, timeout: 1) }
        await garden.stop()
    }

    @Test func answersBehindAThrottledOneComeWholeAndInOrder() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
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
        defer { afterTest { await garden.stop() } }
        _ = try await garden.get("/page.html")
        await garden.server.audit.flush()
        let event = try #require(try AuditLogTests.events(in: garden.auditLogPath ?? "").first)
        #expect(event.effects == ["throttle"])
        #expect(event.durationMicroseconds < 400_000)  // queued at once; the wait is the throttle's
    }
}
