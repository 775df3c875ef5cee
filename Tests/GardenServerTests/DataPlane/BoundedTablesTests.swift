@testable import GardenAudit
import GardenPolicy
@testable import GardenServer
import NIOCore
import NIOEmbedded
import Testing

/// Tables and queues keyed by what clients send stay bounded, whatever they send.
@Suite(.stopsWhatItStarts) struct BoundedTablesTests {
    /// Plays a connection that turns out busy when asked to close: it keeps its slot.
    final class StillBusy: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            (event as? EvictIdleConnection)?.readmit()
        }
    }

    /// Connections whose idle hint was early keep their slots when asked to close, but the
    /// garden goes over its limit by `overdraft` at most.
    @Test func readmittedConnectionsCannotTakeTheGardenFarOverItsLimit() throws {
        let limiter = ConnectionLimiter(limit: 4, perClient: 1000)
        var channels: [EmbeddedChannel] = []
        var admitted = 0
        for index in 0..<200 {
            let channel = EmbeddedChannel(handler: StillBusy())
            channels.append(channel)
            if case .admitted(let ticket) = limiter.admit(client: "10.0.0.\(index % 50)", channel: channel) {
                admitted += 1
                ticket.markIdle(since: .now() - .seconds(5))  // every one claims to be idle, none is
            }
            channel.embeddedEventLoop.run()
        }
        #expect(limiter.count <= 4 + ConnectionLimiter.overdraft)
        #expect(admitted == 4 + ConnectionLimiter.overdraft)
        for channel in channels { _ = try? channel.finish() }
    }

    @Test func theDesksStatisticsCountAddressesLikeOtherMadeUpHosts() {
        let statistics = DeskStatistics()
        let now: Int64 = 1_800_000_000
        // Every IP literal shows the portal (zone intranet), and a client can send billions.
        let batch = (0..<20_000).map { index in
            DeskStatisticsTests.record(host: "10.\(index / 65536).\(index / 256 % 256).\(index % 256)", zone: "intranet", action: "block", second: now)
        }
        statistics.add(batch)
        #expect(statistics.namesHeld <= 2 * (DeskStatistics.otherNamesPerSecond + 1))
        #expect(statistics.snapshot(now: now * 1000 + 500).total.total == 20_000)
    }

    @Test func theLogShareTableHoldsAtMostItsClients() {
        var share = LogShare(rate: 1)
        var written = 0
        for round in 0..<12 {
            for client in 0..<5000 {
                let event = AuditEvent(
                    time: 1_800_000_000_000, listener: "l", client: "fd00::\(String(client, radix: 16))", visitorClass: "citizen",
                    method: "GET", url: "http://a.kp/", host: "a.kp", rule: "r", action: "allow", status: 200, bytes: 1
                )
                if share.admit(event) { written += 1 }
                _ = round
            }
        }
        let summaries = share.dueSummaries(now: 1_800_000_001_000, force: true)
        // Every event is written or counted; the clients beyond the table share one line.
        #expect(written + summaries.reduce(0) { $0 + ($1.suppressed ?? 0) } == 60_000)
        #expect(summaries.count <= LogShare.maxClients + 1)
        #expect(summaries.contains { $0.client == LogShare.otherClients })
    }

    /// The desk's password thread lets `maxWaiting` checks wait at most; the rest are told "busy".
    @Test func thePasswordQueueHoldsExactlyItsLimit() async throws {
        let verifier = PasswordVerifier(threads: 1, maxWaiting: 2)
        defer { afterTest { await verifier.shutdown() } }
        let hash = try PasswordHash.make(password: "right", logRounds: 16)
        let results = await withTaskGroup(of: Bool?.self) { group in
            for _ in 0..<6 { group.addTask { await verifier.verify(Array("wrong".utf8), against: hash) } }
            return await group.reduce(into: [Bool?]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == nil }.count == 4, "\(results)")
        #expect(results.filter { $0 == false }.count == 2)
    }
}
