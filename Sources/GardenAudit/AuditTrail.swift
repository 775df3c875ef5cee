#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GardenPolicy
import Logging
import Synchronization

/// Where every request's audit event goes: the log file, the live feed, the desk's
/// statistics and the metrics.
///
/// The data plane only appends the event to a bounded queue (one short lock, no I/O,
/// no formatting); a writer thread of its own takes the queue every few milliseconds and
/// does the rest. When the queue is full an event is counted as dropped, never waited
/// for: the censor's bookkeeping must not slow the students down.
public final class AuditTrail: Sendable {
    private let queue: Mutex<[AuditRecord]>
    private let capacity: Int
    private let dropped = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let fileState: Mutex<FileState>
    private let logger: Logger
    /// Every event as it happens, for the desk's live feed.
    public let feed = LiveFeed()
    /// Counts for the desk's "Now" and "Policy" pages.
    public let statistics = DeskStatistics()
    /// Prometheus metrics (`/metrics` on the desk).
    public let metrics = GardenMetrics()
    /// How long the writer sleeps between batches.
    private static let interval: Duration = .milliseconds(20)

    private struct FileState {
        var file: AuditLogFile?
        var format: AuditLogSettings.Format = .json
        var reportedProblem: String?
        var reportedDrops = 0
        var countedDrops = 0
        var lastDropReport = ContinuousClock.now - .seconds(10)
        var console = ConsoleSummary()
        var share = LogShare(rate: 0)
    }

    /// A trail writing the log `settings` describe (none when nil).
    ///
    /// - Throws: `AuditLogError` when the log file cannot be opened.
    public convenience init(settings: AuditLogSettings?, logger: Logger) throws(AuditLogError) {
        let file = try settings.map { settings throws(AuditLogError) in try AuditLogFile(settings: settings) }
        self.init(
            file: file, format: settings?.format ?? .json, capacity: settings?.queueCapacity ?? 65_536,
            perClientRate: settings?.perClientRate ?? 0, logger: logger
        )
    }

    /// A trail with no log file: the desk and the metrics still see every event.
    public convenience init(logger: Logger) {
        self.init(file: nil, format: .json, capacity: 65_536, perClientRate: 0, logger: logger)
    }

    init(file: sending AuditLogFile?, format: AuditLogSettings.Format, capacity: Int, perClientRate: Int, logger: Logger) {
        self.capacity = capacity
        self.logger = logger
        var state = FileState()
        state.share = LogShare(rate: perClientRate)
        state.file = file
        state.format = format
        self.fileState = Mutex(state)
        var empty: [AuditRecord] = []
        empty.reserveCapacity(1024)
        self.queue = Mutex(empty)
        let thread = Thread { [self] in writerLoop() }
        thread.name = "garden-audit"
        thread.start()
    }

    /// Takes one event from the data plane. Never blocks beyond a short lock.
    public func record(_ event: AuditRecord) {
        let accepted = queue.withLock { events in
            guard events.count < capacity else { return false }
            events.append(event)
            return true
        }
        if !accepted { dropped.add(1, ordering: .relaxed) }
    }

    /// Wall-clock milliseconds since 1970 (a vDSO call, no allocation).
    public static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Events dropped because the queue was full, since the garden started.
    public var droppedEvents: Int { dropped.load(ordering: .relaxed) }

    /// Writes what is queued and stops the writer thread.
    public func shutdown() async {
        stopping.store(true, ordering: .releasing)
        while !finished.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until every event recorded so far has been written (for tests and shutdown).
    public func flush() async {
        while queue.withLock({ !$0.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        // The batch taken last may still be being written.
        try? await Task.sleep(for: Self.interval * 2)
    }

    private func writerLoop() {
        var lastHeartbeat = ContinuousClock.now
        while true {
            let stop = stopping.load(ordering: .acquiring)
            let batch = queue.withLock { events -> [AuditRecord] in
                guard !events.isEmpty else { return [] }
                let taken = events
                events.removeAll(keepingCapacity: true)
                return taken
            }
            if !batch.isEmpty { write(batch) }
            writeFloodSummaries(force: stop)
            feed.deliverIfDue()
            reportDrops()
            fileState.withLock { $0.console.reportIfDue(to: logger, force: stop) }
            if ContinuousClock.now - lastHeartbeat >= .seconds(15) {
                lastHeartbeat = .now
                feed.heartbeat()
            }
            if stop { break }
            Thread.sleep(forTimeInterval: Double(Self.interval.components.attoseconds) / 1e18)
        }
        finished.store(true, ordering: .releasing)
    }

    private func write(_ batch: [AuditRecord]) {
        for record in batch { record.complete() }
        feed.publish(batch)
        statistics.add(batch)
        metrics.add(batch)
        fileState.withLock { state in
            state.console.add(batch)
            guard let file = state.file else { return }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(batch.count * 360)
            for record in batch where state.share.admit(record.event) {
                Self.append(record.event, format: state.format, to: &bytes)
            }
            file.append(bytes)
            if let problem = file.problem, problem != state.reportedProblem {
                state.reportedProblem = problem
                logger.error("\(problem)")
            }
        }
    }

    private static func append(_ event: AuditEvent, format: AuditLogSettings.Format, to bytes: inout [UInt8]) {
        switch format {
        case .json: event.appendJSONLine(to: &bytes)
        case .combined: bytes.append(contentsOf: event.combinedLine().utf8)
        }
    }

    /// The clients over their share of the file: one line each a second, saying how many.
    private func writeFloodSummaries(force: Bool) {
        fileState.withLock { state in
            guard let file = state.file else { return }
            let summaries = state.share.dueSummaries(now: Self.nowMilliseconds(), force: force)
            guard !summaries.isEmpty else { return }
            var bytes: [UInt8] = []
            for summary in summaries { Self.append(summary, format: state.format, to: &bytes) }
            file.append(bytes)
        }
    }

    private func reportDrops() {
        let total = dropped.load(ordering: .relaxed)
        // Counted at once; said in the log at most once a second, however long the flood.
        let (newlyCounted, unreported) = fileState.withLock { state -> (Int, Int?) in
            let newlyCounted = total - state.countedDrops
            state.countedDrops = total
            guard total > state.reportedDrops, ContinuousClock.now - state.lastDropReport >= .seconds(1) else { return (newlyCounted, nil) }
            defer {
                state.reportedDrops = total
                state.lastDropReport = .now
            }
            return (newlyCounted, total - state.reportedDrops)
        }
        if newlyCounted > 0 { metrics.droppedEvents(newlyCounted) }
        if let unreported {
            logger.warning("the audit queue was full: events dropped", metadata: ["dropped": "\(unreported)", "total": "\(total)"])
        }
    }
}
