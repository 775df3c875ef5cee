import GardenPolicy
import Synchronization

/// The audit events as they happen, for the desk's live feed (server-sent events).
///
/// The audit trail's writer publishes each batch once; every viewer gets the batch
/// through its own stream, which keeps only the newest batches when a viewer reads
/// slowly, so a hundred open dashboards cost the data plane nothing and a stalled one
/// cannot grow memory. The last events are kept, to show a new viewer some history
/// and to explain an event clicked in the feed.
public final class LiveFeed: Sendable {
    /// One event with its feed number and its text, formatted once for every viewer.
    public struct Entry: Sendable {
        public var id: Int
        public var event: AuditEvent
        /// The audit log's JSON line (ends in a newline).
        public var jsonLine: String
        /// The JSON object the feed sends: the log line with the event's number first.
        public var feedJSON: String {
            "{\"id\":\(id)," + jsonLine.dropFirst().dropLast()
        }
    }

    private struct State {
        var nextID = 1
        var recent: [Entry] = []
        var viewers: [Int: AsyncStream<[Entry]>.Continuation] = [:]
        var nextViewer = 0
    }

    private let state = Mutex(State())
    /// How many past events are kept.
    static let historySize = 2000

    /// Numbers the batch, keeps it in the history and hands it to every viewer.
    func publish(_ batch: [AuditEvent]) -> [Entry] {
        state.withLock { state in
            var entries: [Entry] = []
            entries.reserveCapacity(batch.count)
            for event in batch {
                entries.append(Entry(id: state.nextID, event: event, jsonLine: event.jsonLine()))
                state.nextID += 1
            }
            state.recent.append(contentsOf: entries.suffix(Self.historySize))
            if state.recent.count > Self.historySize {
                state.recent.removeFirst(state.recent.count - Self.historySize)
            }
            for viewer in state.viewers.values { viewer.yield(entries) }
            return entries
        }
    }

    /// A stream of batches from now on, and the last `history` events before it.
    public func subscribe(history: Int = 50) -> (history: [Entry], batches: AsyncStream<[Entry]>) {
        let (stream, continuation) = AsyncStream.makeStream(of: [Entry].self, bufferingPolicy: .bufferingNewest(256))
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
        state.withLock { state in
            for viewer in state.viewers.values { viewer.yield([]) }
        }
    }

    /// Viewers connected now.
    public var viewerCount: Int { state.withLock { $0.viewers.count } }

    /// A recent event by its feed number, while it is still in the history.
    public func entry(_ id: Int) -> Entry? {
        state.withLock { state in
            guard let first = state.recent.first, id >= first.id, id - first.id < state.recent.count else { return nil }
            return state.recent[id - first.id]
        }
    }
}
