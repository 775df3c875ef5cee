#if canImport(Glibc)
import Glibc
#endif
import GardenPolicy
import NIOCore

/// Fetches allowed `http://` requests from the real network (`upstream: direct`), with a
/// lean HTTP/1.1 client on the garden's own event loops: SwiftNIO's sockets, the
/// garden's own request bytes and answer decoder (`UpstreamConnection`,
/// `UpstreamResponseDecoder`).
///
/// The name is resolved and every address it resolves to put to the SSRF guard first
/// (`TunnelDialer.guardedAddresses`); the client then connects to those addresses
/// themselves, with the `Host` header naming the site, so nothing it connects to was not
/// checked. There is one pool of kept-alive connections per event loop (`UpstreamPool`),
/// as each nginx worker keeps its own: a fetch and its browser's connection never hand
/// work across threads. Redirects are passed back to the browser, never followed here
/// (each hop is a request the censor must see); bodies are not decompressed.
///
/// It replaced AsyncHTTPClient, whose per-request machinery took most of the garden's time
/// on this path (issue 16: measured in Benchmarks/README.md).
final class UpstreamClient: Sendable {
    let settings: UpstreamSettings
    /// The garden's own ports, never fetched from.
    let itself: GardenItself
    /// A pool per event loop of the group, by the loop's identity; each used on its loop only.
    private let pools: [ObjectIdentifier: UpstreamPool]

    /// Why a fetch failed before its answer began; the garden's status for each.
    enum Failure: Error, CustomStringConvertible {
        case forbidden(String)
        case unreachable(String)
        case timedOut(String)
        case tooLarge(String)

        var description: String {
            switch self {
            case .forbidden(let reason), .unreachable(let reason), .timedOut(let reason), .tooLarge(let reason): reason
            }
        }
    }

    init(settings: UpstreamSettings, itself: GardenItself, group: any EventLoopGroup) {
        self.settings = settings
        self.itself = itself
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = UpstreamPool(
                eventLoop: loop, connectTimeout: TimeAmount(settings.connectTimeout), readTimeout: TimeAmount(settings.readTimeout)
            )
        }
        self.pools = pools
    }

    /// Closes the kept-alive connections; fetches still running go on to their end.
    func shutdown() async {
        for pool in pools.values {
            try? await pool.eventLoop.submit { pool.close() }.get()
        }
    }

    /// Starts a fetch of `request` for `host` (the name the browser asked for) at `port`.
    /// The answer's parts go to `receiver` on `eventLoop`, where the fetch must be started.
    func fetch(
        _ request: UpstreamRequest, receiver: any UpstreamReceiver, on eventLoop: any EventLoop
    ) -> UpstreamFetch {
        let fetch = UpstreamFetch(request: request, receiver: receiver, eventLoop: eventLoop)
        let deadline = NIODeadline.now() + TimeAmount(settings.connectTimeout)
        let bound = NIOLoopBound(fetch, eventLoop: eventLoop)
        // (A loop outside the group is not expected: it gets a pool that keeps nothing.)
        let pool = pools[ObjectIdentifier(eventLoop)] ?? UpstreamPool(
            eventLoop: eventLoop, connectTimeout: TimeAmount(settings.connectTimeout), readTimeout: TimeAmount(settings.readTimeout),
            keepsConnections: false
        )
        @Sendable func guarded(_ result: Result<[SocketAddress], any Error>, fetch: UpstreamFetch) {
            switch result {
            case .success(let addresses):
                fetch.attempt(addresses[...], pool: pool, deadline: deadline, lastError: nil)
            case .failure(let error):
                if case TunnelDialer.Failure.forbidden = error {
                    fetch.fail(.forbidden("\(error)"))
                } else {
                    fetch.fail(.unreachable("\(error)"))
                }
            }
        }
        if let known = TunnelDialer.knownAddresses(host: request.host, port: request.port) {
            let checked = Result { try TunnelDialer.guarded(known, host: request.host, port: request.port, settings: settings, itself: itself) }
            guarded(checked, fetch: fetch)
        } else {
            TunnelDialer.guardedAddresses(host: request.host, port: request.port, settings: settings, itself: itself, on: eventLoop)
                .whenComplete { guarded($0, fetch: bound.value) }
        }
        return fetch
    }
}

/// Receives one fetch's answer on the connection's event loop. The futures it returns
/// hold the next part back until the browser has taken this one (back-pressure); nil
/// stops the fetch (the browser has gone, or the answer was refused).
protocol UpstreamReceiver: AnyObject {
    func upstreamHead(_ head: UpstreamResponseHead) -> EventLoopFuture<Void>?
    func upstreamBody(_ part: ByteBuffer) -> EventLoopFuture<Void>?
    func upstreamFinished()
    /// The end of one read from the host (what was written without a flush goes out).
    func upstreamReadComplete()
    /// Before the head: nothing has been sent, so the garden answers with an error page.
    func upstreamFailed(_ failure: UpstreamClient.Failure)
    /// After the head: the answer is cut short.
    func upstreamBroken(_ error: any Error)
}
