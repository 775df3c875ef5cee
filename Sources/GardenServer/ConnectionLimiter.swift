import NIOCore
import Synchronization

/// Admits client connections so that no client, and no crowd, can hold the garden.
///
/// Two bounds, as nginx's `worker_connections` and `limit_conn` together: at most
/// `limit` connections at once (the file descriptors), and at most `perClient` from one
/// address, so that one student's client cannot take every slot from the rest of the room.
/// When the garden is full, the connection that has sat idle longest (a kept-alive
/// browser connection, or one that never sent a request) is closed to make room, as
/// nginx reuses idle keep-alive connections: a client with a request to make is served
/// before one that only holds a socket. Only a connection idle for `minimumIdleAge` is
/// closed so: one between two requests of a busy client is not (the soak test's wrk and
/// student lost connections so, idle for 0 ms, while a hog's burst churned).
final class ConnectionLimiter: Sendable {
    let limit: Int
    let perClient: Int

    /// One admitted connection: its address's count, and whether it is idle now.
    final class Ticket: Sendable {
        fileprivate let client: String
        fileprivate let channel: any Channel
        /// Milliseconds (on `NIODeadline`'s clock) since which the connection has been
        /// idle, or -1 while a request is on it. A hint kept by the handler: the handler
        /// checks again before it closes (`EvictIdleConnection`).
        private let idleSince = Atomic<Int64>(Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000))

        fileprivate init(client: String, channel: any Channel) {
            self.client = client
            self.channel = channel
        }

        /// A request has begun on the connection.
        func markBusy() {
            idleSince.store(-1, ordering: .relaxed)
        }

        /// The connection waits for a request, as it has since `since`.
        func markIdle(since: NIODeadline) {
            idleSince.store(Int64(since.uptimeNanoseconds / 1_000_000), ordering: .relaxed)
        }

        fileprivate var idleSinceMilliseconds: Int64 { idleSince.load(ordering: .relaxed) }
    }

    /// What `admit` decided.
    enum Admission {
        case admitted(Ticket)
        /// The client's address already holds `perClient` connections.
        case tooManyFromClient
        /// The garden holds `limit` connections and none of them is idle.
        case full
    }

    private struct State {
        var open: [ObjectIdentifier: Ticket] = [:]
        var perAddress: [String: Int] = [:]
    }

    private let state = Mutex(State())
    /// How far over `limit` readmitted connections may take the garden.
    static let overdraft = 16
    /// How long a connection must have waited for a request to be closed for another.
    static let minimumIdleAge: Int64 = 1000  // milliseconds

    init(limit: Int, perClient: Int) {
        self.limit = limit
        self.perClient = perClient
    }

    /// Claims a slot for `channel`, from the client at `client` (its address as text).
    /// When the garden is full, the longest-idle connection is asked to close and its slot
    /// is given to this one.
    func admit(client: String, channel: any Channel) -> Admission {
        let (admission, evicted) = state.withLock { state -> (Admission, Ticket?) in
            if state.perAddress[client, default: 0] >= perClient { return (.tooManyFromClient, nil) }
            var evicted: Ticket?
            if state.open.count >= limit {
                // A connection asked to close that was not idle after all keeps its slot
                // (`readmit`): the garden may go over its limit, but never by more than this.
                guard state.open.count < limit + Self.overdraft else { return (.full, nil) }
                let idleBefore = Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) - Self.minimumIdleAge
                guard let idlest = state.open.values.filter({ $0.idleSinceMilliseconds >= 0 && $0.idleSinceMilliseconds <= idleBefore })
                    .min(by: { $0.idleSinceMilliseconds < $1.idleSinceMilliseconds })
                else { return (.full, nil) }
                Self.remove(idlest, from: &state)
                evicted = idlest
            }
            let ticket = Ticket(client: client, channel: channel)
            state.open[ObjectIdentifier(ticket)] = ticket
            state.perAddress[client, default: 0] += 1
            return (.admitted(ticket), evicted)
        }
        // Outside the lock: the handler closes it on its own event loop if it is still
        // idle, or gives it its slot back if a request came meanwhile.
        if let evicted {
            evicted.channel.pipeline.fireUserInboundEventTriggered(EvictIdleConnection { [self] in readmit(evicted) })
        }
        return admission
    }

    /// Counts again a connection that was asked to close but had a request by then: it
    /// keeps its slot (the garden may be over its limit until a connection closes).
    private func readmit(_ ticket: Ticket) {
        state.withLock { state in
            guard state.open[ObjectIdentifier(ticket)] == nil else { return }
            state.open[ObjectIdentifier(ticket)] = ticket
            state.perAddress[ticket.client, default: 0] += 1
        }
    }

    /// Gives back the slot of a connection that has closed (nothing if it was evicted:
    /// its slot went to another when it was).
    func release(_ ticket: Ticket) {
        state.withLock { state in
            if state.open[ObjectIdentifier(ticket)] != nil { Self.remove(ticket, from: &state) }
        }
    }

    private static func remove(_ ticket: Ticket, from state: inout State) {
        state.open[ObjectIdentifier(ticket)] = nil
        let left = state.perAddress[ticket.client, default: 1] - 1
        state.perAddress[ticket.client] = left > 0 ? left : nil
    }

    /// Connections open now (an evicted one stops counting when it is asked to close).
    var count: Int { state.withLock { $0.open.count } }

    /// Addresses with at least one connection open: bounded by `limit`.
    var clients: Int { state.withLock { $0.perAddress.count } }
}

/// Sent to a connection whose slot was given to a new one: it closes if it is still
/// idle, or else calls `readmit` to be counted again.
struct EvictIdleConnection {
    let readmit: @Sendable () -> Void
}
