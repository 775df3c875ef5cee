import GardenPolicy
import NIOCore
import Synchronization

/// The audit events as they happen, for the desk's live feed (server-sent events).
///
/// The audit trail's writer publishes each batch once (every few milliseconds); viewers
/// are sent what came at most every 100 ms, turned into server-sent-event text once for
/// all of them, and at most 10 events at a time: a garden under load answers tens of
/// thousands of requests a second, more than any screen can show, and a hundred viewers
/// must not cost the students anything. The events left out are counted (`skipped`). Each
/// viewer's stream keeps only the newest batches when it reads slowly, so a stalled
/// dashboard cannot grow memory. The last events are kept, for a new viewer's first
/// screen and to explain an event clicked in the feed.
public final class LiveFeed: Sendable {
    /// One event with its feed number.
    public struct Entry: Sendable {
        public var id: Int
        let record: AuditRecord
        public var event: AuditEvent { record.event }

        /// The JSON object the feed sends: what a row of the feed shows (the trace has
        /// the rest), kept small because every viewer receives it.
        public var feedJSON: String {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(256)
            record.event.appendFeedJSON(id: id, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }

        /// The entry as one server-sent event.
        public var serverSentEvent: String {
            "id: \(id)\nevent: request\ndata: \(feedJSON)\n\n"
        }
    }

    /// What every viewer is sent for one published batch.
    public struct Batch: Sendable {
        /// The events sent (the newest of the batch).
        public var entries: [Entry]
        /// Events of the batch left out, over the rate a screen can show.
        public var skipped: Int
        /// The batch as server-sent-event text, made once for every viewer.
        public var text: ByteBuffer
    }

    private struct State {
        var nextID = 1
        /// A ring, not an array: dropping its oldest events moves nothing.
        var recent = CircularBuffer<Entry>(initialCapacity: LiveFeed.historySize)
        /// Events since viewers were last sent a batch, and how many of them were left out.
        var pending: [Entry] = []
        var pendingSkipped = 0
        var lastSent = ContinuousClock.now
        var viewers: [Int: AsyncStream<Batch>.Continuation] = [:]
        var nextViewer = 0
    }

    private let state = Mutex(State())
    /// How many past events are kept.
    public static let historySize = 2000
    /// Viewers are sent a batch at most this often...
    static let sendInterval: Duration = .milliseconds(100)
    /// ... of at most this many events (100 a second: more than anyone can read).
    static let eventsPerBatch = 10

    /// Numbers the events, keeps them in the history, and holds the newest for the viewers.
    func publish(_ batch: [AuditRecord]) {
        state.withLock { state in
            var entries: [Entry] = []
            entries.reserveCapacity(batch.count)
            for record in batch {
                entries.append(Entry(id: state.nextID, record: record))
                state.nextID += 1
            }
            state.recent.append(contentsOf: entries.suffix(Self.historySize))
            if state.recent.count > Self.historySize {
                state.recent.removeFirst(state.recent.count - Self.historySize)
            }
            guard !state.viewers.isEmpty else { return }
            state.pending.append(contentsOf: entries.suffix(Self.eventsPerBatch))
            state.pendingSkipped += max(0, entries.count - Self.eventsPerBatch)
            if state.pending.count > Self.eventsPerBatch {
                state.pendingSkipped += state.pending.count - Self.eventsPerBatch
                state.pending.removeFirst(state.pending.count - Self.eventsPerBatch)
            }
        }
    }

    /// Sends the viewers what is held for them, if `sendInterval` has passed since the
    /// last time (the writer asks every few milliseconds).
    func deliverIfDue() {
        let ready = state.withLock { state -> (entries: [Entry], skipped: Int)? in
            guard !state.pending.isEmpty, ContinuousClock.now - state.lastSent >= Self.sendInterval else { return nil }
            state.lastSent = .now
            defer {
                state.pending = []
                state.pendingSkipped = 0
            }
            return (state.pending, state.pendingSkipped)
        }
        // Formatted outside the lock, once for every viewer.
        guard let (sent, skipped) = ready else { return }
        var text = skipped > 0 ? "event: skipped\ndata: \(skipped)\n\n" : ""
        for entry in sent { text += entry.serverSentEvent }
        let message = Batch(entries: sent, skipped: skipped, text: ByteBuffer(string: text))
        state.withLock { state in
            for viewer in state.viewers.values { viewer.yield(message) }
        }
    }

    /// A stream of batches from now on, and the last `history` events before it.
    public func subscribe(history: Int = 50) -> (history: [Entry], batches: AsyncStream<Batch>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Batch.self, bufferingPolicy: .bufferingNewest(64))
        let (number, past) = state.withLock { state in
            let number = state.nextViewer
            state.nextViewer += 1
            state.viewers[number] = continuation
            return (number, Array(state.recent.suffix(history)))
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.viewers.removeValue(forKey: number) }
        }
        return (past, stream)
    }

    /// An empty batch to every viewer: the feed writes a comment line, which keeps the
    /// stream open through proxies and ends the streams of viewers who have left.
    func heartbeat() {
        let message = Batch(entries: [], skipped: 0, text: ByteBuffer(string: ": still here\n\n"))
        state.withLock { state in
            for viewer in state.viewers.values { viewer.yield(message) }
        }
    }

    /// Viewers connected now.
    public var viewerCount: Int { state.withLock { $0.viewers.count } }

    /// Ends every viewer's stream (the desk is stopping): their responses end, so the
    /// desk's server has no open stream to wait on.
    public func finishAll() {
        let viewers = state.withLock { state in
            defer { state.viewers = [:] }
            return state.viewers
        }
        for viewer in viewers.values { viewer.finish() }
    }

    /// The newest of the recent events that `matches` picks, newest first, at most `limit`.
    public func recent(limit: Int, where matches: (AuditEvent) -> Bool) -> [AuditEvent] {
        state.withLock { state in
            var found: [AuditEvent] = []
            for entry in state.recent.reversed() where matches(entry.event) {
                found.append(entry.event)
                if found.count == limit { break }
            }
            return found
        }
    }

    /// A recent event by its feed number, while it is still in the history.
    public func entry(_ id: Int) -> Entry? {
        state.withLock { state in
            guard let first = state.recent.first, id >= first.id, id - first.id < state.recent.count else { return nil }
            return state.recent[state.recent.index(state.recent.startIndex, offsetBy: id - first.id)]
        }
    }
}
