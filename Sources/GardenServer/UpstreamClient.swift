#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import GardenPolicy
import NIOCore
import NIOHTTP1

/// Fetches allowed `http://` requests from the real network (`upstream: direct`), with
/// AsyncHTTPClient on the garden's own event loops.
///
/// The name is resolved and every address it resolves to put to the SSRF guard first
/// (`TunnelDialer.guardedAddresses`); the client is then given the address itself, with
/// the `Host` header naming the site, so nothing it connects to was not checked. There is
/// one client per event loop, each with its own pool of kept-alive connections on that
/// loop (as each nginx worker keeps its own): a fetch and its browser's connection never
/// hand work across threads. Redirects
/// are passed back to the browser, never followed here (each hop is a request the censor
/// must see); bodies are not decompressed. Connections to the real hosts are kept alive
/// and reused, as a browser's would be.
final class UpstreamClient: Sendable {
    let settings: UpstreamSettings
    /// The garden's own ports, never fetched from.
    let itself: GardenItself
    /// A client per event loop of the group, by the loop's identity.
    private let clients: [ObjectIdentifier: HTTPClient]
    /// For a loop outside the group (not expected): shared by all.
    private let fallback: HTTPClient

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
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(settings.connectTimeout), read: TimeAmount(settings.readTimeout)),
            decompression: .disabled
        )
        configuration.httpVersion = .http1Only
        configuration.connectionPool.idleTimeout = .seconds(30)
        // As many kept-alive connections per host as browsers' fetches need at once (the
        // default, 8, queues a classroom's requests to one popular host behind each other).
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        // A refused connection is an answer: tell the browser at once (the garden tries the
        // name's other addresses itself) rather than retry until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        var clients: [ObjectIdentifier: HTTPClient] = [:]
        for loop in group.makeIterator() {
            clients[ObjectIdentifier(loop)] = HTTPClient(eventLoopGroupProvider: .shared(loop), configuration: configuration)
        }
        self.clients = clients
        self.fallback = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    /// Closes the kept-alive connections; fetches still running fail.
    func shutdown() async {
        for client in clients.values { try? await client.shutdown() }
        try? await fallback.shutdown()
    }

    /// Starts a fetch of `request` for `host` (the name the browser asked for) at `port`.
    /// The answer's parts go to `receiver` on `eventLoop`, where the fetch must be started.
    func fetch(
        _ request: UpstreamRequest, receiver: any UpstreamReceiver, on eventLoop: any EventLoop
    ) -> UpstreamFetch {
        let fetch = UpstreamFetch(request: request, receiver: receiver, eventLoop: eventLoop)
        let deadline = NIODeadline.now() + TimeAmount(settings.connectTimeout)
        let bound = NIOLoopBound(fetch, eventLoop: eventLoop)
        let client = clients[ObjectIdentifier(eventLoop)] ?? fallback
        TunnelDialer.guardedAddresses(host: request.host, port: request.port, settings: settings, itself: itself, on: eventLoop).whenComplete { result in
            let fetch = bound.value
            switch result {
            case .success(let addresses):
                fetch.attempt(addresses[...], client: client, deadline: deadline, lastError: nil)
            case .failure(let error):
                if case TunnelDialer.Failure.forbidden = error {
                    fetch.fail(.forbidden("\(error)"))
                } else {
                    fetch.fail(.unreachable("\(error)"))
                }
            }
        }
        return fetch
    }
}

/// Receives one fetch's answer on the connection's event loop. The futures it returns
/// hold the next part back until the browser has taken this one (back-pressure); nil
/// stops the fetch (the browser has gone, or the answer was refused).
protocol UpstreamReceiver: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>?
    func upstreamBody(_ part: ByteBuffer) -> EventLoopFuture<Void>?
    func upstreamFinished()
    /// Before the head: nothing has been sent, so the garden answers with an error page.
    func upstreamFailed(_ failure: UpstreamClient.Failure)
    /// After the head: the answer is cut short.
    func upstreamBroken(_ error: any Error)
}
