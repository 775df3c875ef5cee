@testable import GardenAudit
import GardenPolicy
import Logging
import Synchronization
@testable import GardenServer
import Testing

/// The desk's statistics keep bounded tables whatever host names clients invent.
@Suite(.stopsWhatItStarts) struct DeskStatisticsTests {
    static func record(host: String, zone: String?, action: String, second: Int64) -> AuditRecord {
        AuditRecord(AuditEvent(
            time: second * 1000, listener: "l", client: "127.0.0.1", visitorClass: "citizen", method: "GET", url: "http://\(host)/",
            host: host, zone: zone, rule: "r", action: action, status: action == "allow" ? 200 : 403, bytes: 10
        ))
    }

    /// The chart's series: per class, 10 s slices of the 5 minutes, oldest first.
    @Test func eachClassHasItsSlicesOverTime() throws {
        let statistics = DeskStatistics()
        let now: Int64 = 1_800_000_000
        statistics.add([
            Self.record(host: "friend.com.kp", zone: "intranet", action: "allow", second: now - 295),
            Self.record(host: "friend.com.kp", zone: "intranet", action: "block", second: now - 3),
            Self.record(host: "friend.com.kp", zone: "intranet", action: "allow", second: now - 2),
        ])
        let series = statistics.snapshot(now: now * 1000 + 500).classSeries
        #expect(series.map(\.name) == ["citizen"])
        let slices = try #require(series.first?.slices)
        #expect(slices.count == DeskStatistics.window / DeskStatistics.sliceSeconds)
        #expect(slices.first?.allowed == 1)
        #expect(slices.last?.allowed == 1 && slices.last?.censored == 1)
        #expect(slices.dropFirst().dropLast().allSatisfy { $0.total == 0 })
    }

    /// A site reached as `NAME.localhost` counts as the site; the PAC file is neither
    /// refused nor censored.
    @Test func aLocalhostNameIsItsSiteAndThePACFileIsNoRefusal() {
        let statistics = DeskStatistics()
        let now: Int64 = 1_800_000_000
        statistics.add([
            Self.record(host: "friend.com.kp", zone: "intranet", action: "allow", second: now),
            Self.record(host: "friend.com.kp.localhost", zone: "intranet", action: "allow", second: now),
            Self.record(host: "127.0.0.1", zone: nil, action: "proxy-config", second: now),
        ])
        let snapshot = statistics.snapshot(now: now * 1000 + 500)
        #expect(snapshot.bySite.first { $0.name == "friend.com.kp" }?.tally.total == 2)
        #expect(!snapshot.bySite.contains { $0.name == "friend.com.kp.localhost" })
        #expect(snapshot.total.censored == 0)
        #expect(snapshot.topBlockedHosts.isEmpty)
    }

    /// 200,000 invented names over five minutes, beside the garden's own sites.
    /// Runs of events that count alike are counted at once: a batch gives the same
    /// tables as its events given one at a time, runs or not (other hosts past the
    /// per-second limit, shadow matches, a second's turn within a run).
    @Test func aBatchCountsAsItsEventsOneByOne() {
        let now: Int64 = 1_800_000_000
        var events: [AuditRecord] = []
        for index in 0..<400 {
            let host = index < 200 ? "friend.com.kp" : "x\(index / 3).invented.example"
            let action = index % 7 == 0 ? "block" : "allow"
            let record = Self.record(host: host, zone: index < 200 ? "intranet" : nil, action: action, second: now - Int64(index / 150))
            if index % 50 == 0 { record.event.shadow = [AuditEvent.Shadow(rule: "try-block", action: "block")] }
            events.append(record)
        }
        let together = DeskStatistics()
        together.add(events)
        let oneByOne = DeskStatistics()
        for event in events { oneByOne.add([event]) }
        let (a, b) = (together.snapshot(now: now * 1000 + 500), oneByOne.snapshot(now: now * 1000 + 500))
        #expect(a.total == b.total && a.total.total == 400)
        #expect(a.lastMinute == b.lastMinute)
        #expect(a.byClass.map(\.name) == b.byClass.map(\.name) && a.byClass.map(\.tally) == b.byClass.map(\.tally))
        #expect(a.bySite.map(\.name) == b.bySite.map(\.name) && a.bySite.map(\.tally) == b.bySite.map(\.tally))
        #expect(a.topBlockedHosts.map(\.host) == b.topBlockedHosts.map(\.host) && a.topBlockedHosts.map(\.count) == b.topBlockedHosts.map(\.count))
        #expect(together.ruleHits == oneByOne.ruleHits && together.ruleHits["try-block"]?.shadowHits == 8)
    }

    @Test func inventedHostNamesAreCountedUnderOneRow() {
        let statistics = DeskStatistics()
        let now: Int64 = 1_800_000_000
        var batch: [AuditRecord] = []
        for index in 0..<200_000 {
            let second = now - Int64(index % 299)
            batch.append(Self.record(host: "x\(index).invented.example", zone: nil, action: index.isMultiple(of: 2) ? "block" : "allow", second: second))
            if index.isMultiple(of: 100) {
                batch.append(Self.record(host: "friend.com.kp", zone: "intranet", action: "allow", second: second))
            }
            if batch.count >= 1000 {
                statistics.add(batch)
                batch = []
            }
        }
        statistics.add(batch)
        // Held: the sites and at most 33 other names a second, in each of the two tables.
        #expect(statistics.namesHeld <= DeskStatistics.window * 2 * (1 + DeskStatistics.otherNamesPerSecond + 1))
        let snapshot = statistics.snapshot(now: now * 1000 + 500)
        #expect(snapshot.total.total == 202_000)
        #expect(snapshot.bySite.count <= DeskStatistics.shownNames + 1)
        #expect(snapshot.bySite.map(\.tally.total).reduce(0, +) == 202_000)
        #expect(snapshot.bySite.first?.name == "friend.com.kp")
        #expect(snapshot.bySite.last?.name == DeskStatistics.otherHosts)
        #expect(snapshot.bySite.contains { $0.name == "friend.com.kp" && $0.tally.total == 2000 })
        #expect(snapshot.topBlockedHosts.count <= 10)
    }

    /// A quiet classroom's hosts are all shown by name.
    @Test func aFewHostsAreShownByName() {
        let statistics = DeskStatistics()
        let now: Int64 = 1_800_000_000
        statistics.add((0..<10).map { Self.record(host: "real\($0).example", zone: nil, action: "block", second: now - 1) })
        let snapshot = statistics.snapshot(now: now * 1000)
        #expect(snapshot.bySite.count == 10)
        #expect(!snapshot.bySite.contains { $0.name == DeskStatistics.otherHosts })
        #expect(snapshot.topBlockedHosts.count == 10)
    }
}

/// The server log says of requests only a periodic summary: the audit log is the record.
@Suite(.stopsWhatItStarts) struct ConsoleSummaryTests {
    @Test func fiveHundredMonitoredRequestsAreOneLine() async throws {
        let box = DeskDashboardTests.RecordedMessages()
        let trail = AuditTrail(logger: Logger(label: "summary") { _ in DeskDashboardTests.ErrorRecorder(recorded: box, logLevel: .info) })
        for index in 0..<500 {
            let record = DeskStatisticsTests.record(host: "h\(index).example", zone: nil, action: "allow", second: 1_800_000_000)
            record.event.rule = "watch-officials"
            record.event.effects = ["monitor"]
            record.event.shadow = [AuditEvent.Shadow(rule: "try-block", action: "block")]
            trail.record(record)
        }
        await trail.shutdown()
        let lines = box.messages.withLock { $0 }
        #expect(lines.filter { $0.contains("monitored requests") }.count == 1, "\(lines)")
        #expect(lines.contains { $0.contains("monitored requests") && $0.contains("watch-officials: 500") }, "\(lines)")
        #expect(lines.contains { $0.contains("shadow rules would have acted") && $0.contains("try-block → would block: 500") }, "\(lines)")
        #expect(lines.count == 2, "\(lines)")
    }
}
