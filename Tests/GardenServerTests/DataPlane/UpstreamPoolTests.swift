import Foundation
import GardenPolicy
import GardenServer
import Synchronization
import Testing

/// The way out's own client keeps its connections to a real host alive and reuses them;
/// when the host closes a kept connection just as a request goes out on it, a request
/// that may be repeated (GET) goes again on a new connection, and one that may not (POST)
/// is answered 502 rather than sent twice.
@Suite(.stopsWhatItStarts) struct UpstreamPoolTests {
    static func request(_ method: String, _ path: String, origin: LoopbackOrigin, last: Bool = false, body: String = "") -> String {
        let authority = "127.0.0.1:\(origin.port)"
        let length = body.isEmpty ? "" : "Content-Length: \(body.utf8.count)\r\n"
        return "\(method) http://\(authority)\(path) HTTP/1.1\r\nHost: \(authority)\r\n\(length)\(last ? "Connection: close\r\n" : "")\r\n\(body)"
    }

    static func statuses(_ text: String) -> [Int] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    @Test func aKeptConnectionIsReused() async throws {
        let origin = try await LoopbackOrigin.start()
        defer { afterTest { await origin.stop() } }
        let garden = try await UpstreamFetchTests.garden()
        defer { afterTest { await garden.stop() } }
        // Three requests on one browser connection: one connection to the host.
        let response = try await garden.raw(
            Self.request("GET", "/hello", origin: origin) + Self.request("GET", "/echo", origin: origin)
                + Self.request("GET", "/hello", origin: origin, last: true)
        )
        #expect(Self.statuses(response.text) == [200, 200, 200])
        #expect(origin.connectionsAccepted == 1)
        #expect(origin.received.withLock { $0.count } == 3)
    }

    @Test func aGetOnAConnectionTheHostClosedGoesAgainOnANewOne() async throws {
        let origin = try await LoopbackOrigin.start()
        defer { afterTest { await origin.stop() } }
        let garden = try await UpstreamFetchTests.garden()
        defer { afterTest { await garden.stop() } }
        // /once closes a connection that has answered before, without answering.
        let response = try await garden.raw(
            Self.request("GET", "/hello", origin: origin) + Self.request("GET", "/once", origin: origin)
                + Self.request("GET", "/once", origin: origin, last: true)
        )
        #expect(Self.statuses(response.text) == [200, 200, 200])
        #expect(response.text.hasSuffix("once"))
        #expect(origin.connectionsAccepted == 3)
        #expect(origin.received.withLock { $0.count } == 5)
    }

    @Test func anInformationalAnswerIsSkippedForTheRealOne() async throws {
        let origin = try await LoopbackOrigin.start()
        defer { afterTest { await origin.stop() } }
        let garden = try await UpstreamFetchTests.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw(
            Self.request("GET", "/hints", origin: origin) + Self.request("GET", "/hello", origin: origin, last: true)
        )
        #expect(Self.statuses(response.text) == [200, 200])
        #expect(response.text.contains("after the hints"))
        #expect(!response.text.contains("103"))
    }

    @Test func aPostIsNotSentTwice() async throws {
        let origin = try await LoopbackOrigin.start()
        defer { afterTest { await origin.stop() } }
        let garden = try await UpstreamFetchTests.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw(
            Self.request("GET", "/hello", origin: origin) + Self.request("POST", "/once", origin: origin, last: true, body: "vote=1")
        )
        #expect(Self.statuses(response.text) == [200, 502])
        #expect(origin.received.withLock { $0.filter { $0.hasPrefix("POST") }.count } == 1)
    }
}
