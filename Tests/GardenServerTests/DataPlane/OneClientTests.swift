import Foundation
import GardenPolicy
@testable import GardenServer
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One student's client must not take the garden from the others: a connection that
/// floods requests and reads nothing, an address that holds connections, a crowd that
/// fills the garden with idle ones.
@Suite(.stopsWhatItStarts) struct OneClientTests {
    /// One address opens 2,000 idle connections; another address is still answered, every time.
    @Test func oneAddressCannotHoldEveryConnection() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let hog = try await RawConnection.offPool {
            try (0..<2000).map { _ in try RawConnection(port: garden.port, timeout: 5) }
        }
        try await waitUntil("the hog holds its share") { garden.server.openConnections >= 128 }
        var answered = 0
        for _ in 0..<30 {
            let status = try await RawConnection.offPool {
                let connection = try RawConnection(port: garden.port, timeout: 5, from: "127.0.0.2")
                connection.send(Array("GET / HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n".utf8))
                return RawResponse(bytes: connection.receive().bytes).status
            }
            if status == 200 { answered += 1 }
        }
        #expect(answered == 30)
        // The hog holds at most its share: the rest of its connections got 503 and were
        // closed. (Waited for: the students' answered connections close a moment later.)
        try await waitUntil("the hog holds at most its share") {
            garden.server.openConnections <= ServerLimits().maxConnectionsPerClient
        }
        let refused = try await RawConnection.offPool { RawResponse(bytes: hog[1999].receive().bytes) }
        #expect(refused.status == 503)
        #expect(refused.bodyText.contains("Too many connections from your address"))
    }

    /// A full garden closes its idle connections to serve a client with a request.
    @Test func aFullGardenClosesIdleConnectionsFirst() async throws {
        var limits = ServerLimits()
        limits.maxConnections = 40
        limits.maxConnectionsPerClient = 1000
        let garden = try await TestGarden(limits: limits)
        defer { afterTest { await garden.stop() } }
        let idle = try await RawConnection.offPool {
            try (0..<40).map { index in
                let connection = try RawConnection(port: garden.port, timeout: 5)
                if index.isMultiple(of: 2) {
                    // Half of them kept alive after a request, half never sent one.
                    connection.send(Array("GET / HTTP/1.1\r\nHost: alpha.kp\r\n\r\n".utf8))
                    _ = connection.receive(until: { RawResponse(bytes: $0).bodyText.contains("alpha home") })
                }
                return connection
            }
        }
        try await waitUntil("the garden is full") { garden.server.openConnections == 40 }
        // Only a connection idle for a second is closed for another (one between two
        // requests of a busy client is not): let them idle that long.
        try await Task.sleep(for: .milliseconds(Int(ConnectionLimiter.minimumIdleAge) + 200))
        // Thirty newcomers from another address, each keeping its connection: each needs a slot.
        var newcomers: [RawConnection] = []
        var answered = 0
        for _ in 0..<30 {
            let (connection, status) = try await RawConnection.offPool {
                let connection = try RawConnection(port: garden.port, timeout: 5, from: "127.0.0.2")
                connection.send(Array("GET / HTTP/1.1\r\nHost: alpha.kp\r\n\r\n".utf8))
                let bytes = connection.receive(until: { RawResponse(bytes: $0).bodyText.contains("alpha home") }).bytes
                return (connection, RawResponse(bytes: bytes).status)
            }
            newcomers.append(connection)
            if status == 200 { answered += 1 }
        }
        #expect(answered == 30)
        // Thirty of the idle connections were closed to make room for them, none of the newcomers.
        try await waitUntil("the idle connections have closed") { idle.filter(\.isClosedByPeer).count >= 30 }
        #expect(idle.filter(\.isClosedByPeer).count == 30)
        #expect(newcomers.filter(\.isClosedByPeer).isEmpty)
        #expect(garden.server.openConnections <= 40)
    }

    /// A connection answering a request is not closed to make room: the newcomer gets 503.
    @Test func busyConnectionsAreNotClosedToMakeRoom() async throws {
        var limits = ServerLimits()
        limits.maxConnections = 2
        limits.maxConnectionsPerClient = 10
        limits.requestTimeout = .seconds(30)
        let garden = try await TestGarden(limits: limits)
        defer { afterTest { await garden.stop() } }
        // Two connections each in the middle of sending a request.
        let busy = try await RawConnection.offPool {
            try (0..<2).map { _ in
                let connection = try RawConnection(port: garden.port, timeout: 5)
                connection.send(Array("GET / HTTP/1.1\r\nHost: al".utf8))
                return connection
            }
        }
        try await waitUntil("both requests have begun") { garden.server.openConnections == 2 }
        // The handlers mark themselves busy as the bytes are read; give the reads a moment.
        try await Task.sleep(for: .milliseconds(200))
        let newcomer = try await garden.get("/")
        #expect(newcomer.status == 503)
        // The two finish their requests and are answered.
        let finished = try await RawConnection.offPool {
            busy.map { connection in
                connection.send(Array("pha.kp\r\nConnection: close\r\n\r\n".utf8))
                return RawResponse(bytes: connection.receive().bytes).status
            }
        }
        #expect(finished == [200, 200])
    }

    /// A pipelined flood that never reads its answers: the garden stops reading that
    /// connection once its unsent answers pass the high-water mark, so its memory stays
    /// flat, and everyone else is served meanwhile. Run in a garden process of its own, so
    /// that its memory is its alone.
    @Test func aPipelinedFloodThatNeverReadsDoesNotGrowMemory() async throws {
        let garden = try await GardenProcess.start()
        defer { garden.stop() }
        let before = try #require(garden.residentBytes)
        // 200,000 pipelined GETs (8 MB) for a 4 KiB page, sent until the garden stops
        // taking them (the send times out), never reading an answer.
        let request = Array("GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\nX: 0\r\n\r\n".utf8)
        let flooder = try await RawConnection.offPool { try RawConnection(port: garden.port, timeout: 3) }
        let flood = Task.detached {
            var batch: [UInt8] = []
            batch.reserveCapacity(request.count * 1000)
            for _ in 0..<1000 { batch += request }
            for _ in 0..<200 {
                guard flooder.sendAll(batch) else { break }
            }
        }
        // A normal client is answered while the flood goes on.
        try await Task.sleep(for: .milliseconds(500))
        let normal = try await RawConnection.exchange(
            port: garden.port, send: Array("GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n".utf8), timeout: 5
        )
        #expect(normal.status == 200)
        await flood.value
        let after = try #require(garden.residentBytes)
        let grown = after - before
        #expect(grown < 32 * 1024 * 1024, "the garden grew by \(grown / 1024) KiB during the flood")
        _ = flooder
    }
}

extension RawConnection {
    /// Whether the server has closed the connection (an end of stream waits to be read;
    /// nothing else was sent on it unread).
    var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    /// Sends all of `bytes`; false when the socket stopped taking them (the send timed out).
    func sendAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}

/// Waits for `condition`, polling, until a deadline; fails the test with `what` if it never holds.
func waitUntil(
    _ what: String, within deadline: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () throws -> Bool
) async throws {
    let start = ContinuousClock.now
    while try !condition() {
        if ContinuousClock.now - start > deadline {
            Issue.record("timed out after \(deadline) waiting until \(what)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
