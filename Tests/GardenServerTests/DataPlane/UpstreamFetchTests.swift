import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import Synchronization
import Testing

/// `upstream: direct` for plain `http://`: allowed proxy requests for hosts that are not
/// simulated sites are fetched from a real HTTP server (on loopback, let through the SSRF
/// guard by the allow-list) and streamed back — fields forwarded or not as RFC 9110
/// says, bodies sent on, sizes and times bounded, failures answered in words.
@Suite(.stopsWhatItStarts) struct UpstreamFetchTests {
    static let policyText = """
    classes: {citizen: Citizens., official: Officials.}
    default_class: citizen
    rules:
      - id: no-blocked
        reason: Blocked.
        hosts: [blocked.example]
        action: block
      - id: slow-beyond
        reason: Throttled.
        paths: [/slow-big/]
        effects:
          - throttle: {rate: 64KiB}
    default: allow
    """

    static func garden(
        allowLoopback: Bool = true, personas: [String?] = [nil], configure: (inout UpstreamSettings) -> Void = { _ in }
    ) async throws -> TestGarden {
        var upstream = UpstreamSettings.directToLoopback(allowingLoopback: allowLoopback)
        configure(&upstream)
        return try await TestGarden(
            policy: try Policy.parse(.init(file: "policy.yaml", text: policyText)), personas: personas,
            auditLog: AuditLogSettings(path: "audit.jsonl"), upstream: upstream
        )
    }

    /// A proxy request (absolute-form) for `path` on the origin, with `Connection: close`.
    static func proxied(_ path: String, origin: LoopbackOrigin, method: String = "GET", version: String = "1.1", headers: [String] = [], body: String = "") -> String {
        let authority = "127.0.0.1:\(origin.port)"
        let extra = headers.map { $0 + "\r\n" }.joined()
        let length = body.isEmpty ? "" : "Content-Length: \(body.utf8.count)\r\n"
        return "\(method) http://\(authority)\(path) HTTP/\(version)\r\nHost: \(authority)\r\n\(extra)\(length)Connection: close\r\n\r\n\(body)"
    }

    /// The body of a chunked answer, decoded; nil if the chunks are malformed or unfinished.
    static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16)
            else { return nil }
            let start = lineEnd + 2
            if size == 0 { return start + 2 <= bytes.count ? body : nil }
            guard start + size + 2 <= bytes.count else { return nil }
            body += bytes[start..<(start + size)]
            index = start + size + 2
        }
    }

    @Test func aPageComesFromTheRealHostWithHopByHopFieldsLeftOut() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let response = try await garden.raw(Self.proxied("/hello", origin: origin))
        #expect(response.status == 200)
        #expect(response.bodyText == "hello from beyond the wall")
        #expect(response.header("X-Origin") == "yes")
        #expect(response.header("Content-Length") == "26")
        #expect(response.header("Via") == "1.1 walled-garden")
        // Named in the origin's Connection field, and hop-by-hop by definition: not passed on.
        #expect(response.header("X-Hop") == nil)
        #expect(response.header("Keep-Alive") == nil)
        #expect(response.header("Connection") == "close")
        // What the origin saw: the site's name in Host, origin-form target, Via.
        let seen = origin.lastRequest
        #expect(seen.hasPrefix("GET /hello HTTP/1.1\r\n"))
        #expect(seen.contains("Host: 127.0.0.1:\(origin.port)\r\n") || seen.contains("host: 127.0.0.1:\(origin.port)\r\n"))
        #expect(seen.contains("Via: 1.1 walled-garden"))
        await garden.server.audit.flush()
        let event = try #require(try AuditLogTests.events(in: garden.auditLogPath ?? "").last)
        #expect(event.status == 200 && event.action == "allow" && event.host == "127.0.0.1")
        #expect(event.bytes == response.bytes.count)
    }

    /// What reaches the real host of the browser's fields, for each `forwarded_for` setting.
    @Test(arguments: [
        (UpstreamSettings.ForwardedFor.remove, nil as String?),
        (.add, "10.1.1.1, 127.0.0.1"),
        (.keep, "10.1.1.1"),
    ])
    func fieldsForwarded(forwardedFor: UpstreamSettings.ForwardedFor, expected: String?) async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden { $0.forwardedFor = forwardedFor }
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let response = try await garden.raw(Self.proxied("/echo", origin: origin, headers: [
            "X-Forwarded-For: 10.1.1.1", "Proxy-Authorization: Basic c2VjcmV0OnNlY3JldA==", "Proxy-Connection: keep-alive",
            "Cookie: flavour=kimchi", "Connection: X-Private", "X-Private: only-for-the-proxy", "TE: trailers", "Max-Forwards: 5",
        ]))
        #expect(response.status == 200)
        let seen = response.bodyText.lowercased()
        #expect(seen.contains("cookie: flavour=kimchi"))
        #expect(seen.contains("max-forwards: 4"))
        #expect(!seen.contains("proxy-authorization"))
        #expect(!seen.contains("proxy-connection"))
        #expect(!seen.contains("x-private"))
        #expect(!seen.contains("te: trailers"))
        if let expected {
            #expect(seen.contains("x-forwarded-for: \(expected.lowercased())\r\n"), "\(seen)")
        } else {
            #expect(!seen.contains("x-forwarded-for"))
        }
    }

    @Test func viaCanBeLeftOut() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden { $0.via = false }
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let response = try await garden.raw(Self.proxied("/echo", origin: origin))
        #expect(response.header("Via") == nil)
        #expect(!response.bodyText.lowercased().contains("via:"))
    }

    @Test func aChunkedAnswerIsStreamedInChunksOrUntilCloseForHTTP10() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let modern = try await garden.raw(Self.proxied("/chunked", origin: origin))
        #expect(modern.header("Transfer-Encoding") == "chunked")
        #expect(Self.dechunk(modern.body).map { String(decoding: $0, as: UTF8.self) } == "one two three")
        let old = try await garden.raw(Self.proxied("/chunked", origin: origin, version: "1.0"))
        #expect(old.status == 200)
        #expect(old.header("Transfer-Encoding") == nil && old.header("Content-Length") == nil)
        #expect(old.bodyText == "one two three")
    }

    @Test func headNoContentAndRedirectsArePassedOnAsTheyAre() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let head = try await garden.raw(Self.proxied("/hello", origin: origin, method: "HEAD"))
        #expect(head.status == 200 && head.header("Content-Length") == "26" && head.body.isEmpty)
        let nothing = try await garden.raw(Self.proxied("/nothing", origin: origin))
        #expect(nothing.status == 204 && nothing.body.isEmpty && nothing.header("Transfer-Encoding") == nil)
        // A redirect goes back to the browser, whose next request the censor sees again.
        let moved = try await garden.raw(Self.proxied("/moved", origin: origin))
        #expect(moved.status == 302 && moved.header("Location") == "http://elsewhere.example/")
    }

    @Test func aFormIsSentOnAndTheConnectionGoesOn() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let authority = "127.0.0.1:\(origin.port)"
        let form = "name=Kim&dish=naengmyeon"
        // A POST with a body, then a GET pipelined behind it on the same connection.
        let response = try await garden.raw(
            "POST http://\(authority)/echo HTTP/1.1\r\nHost: \(authority)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: \(form.utf8.count)\r\n\r\n\(form)"
                + "GET http://\(authority)/hello HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\n\r\n"
        )
        #expect(response.status == 200)
        let text = response.text
        #expect(text.contains("POST /echo HTTP/1.1"))
        #expect(text.contains("Content-Length: \(form.utf8.count)") || text.contains("content-length: \(form.utf8.count)"))
        #expect(text.contains("\r\n\r\n\(form)"))
        #expect(text.hasSuffix("hello from beyond the wall"), "\(text)")
    }

    /// `OPTIONS` with `Max-Forwards: 0` asks the proxy itself (RFC 9110 §7.6.2).
    @Test func optionsWithNoForwardsLeftIsAnsweredByTheGarden() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let own = try await garden.raw(Self.proxied("/echo", origin: origin, method: "OPTIONS", headers: ["Max-Forwards: 0"]))
        #expect(own.status == 200)
        #expect(own.header("Allow")?.contains("GET") == true)
        #expect(origin.received.withLock { $0.isEmpty })
        let forwarded = try await garden.raw(Self.proxied("/echo", origin: origin, method: "OPTIONS", headers: ["Max-Forwards: 1"]))
        #expect(forwarded.bodyText.hasPrefix("OPTIONS /echo HTTP/1.1"))
        #expect(forwarded.bodyText.lowercased().contains("max-forwards: 0"))
    }

    @Test func expectContinueGetsTheGoAhead() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let port = garden.port
        let authority = "127.0.0.1:\(origin.port)"
        let text = try await RawConnection.offPool { () -> String in
            let connection = try RawConnection(port: port, timeout: 5)
            connection.send(Array("PUT http://\(authority)/echo HTTP/1.1\r\nHost: \(authority)\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n".utf8))
            let interim = connection.receive { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
            connection.send(Array("hello".utf8))
            return String(decoding: interim.bytes + connection.receive().bytes, as: UTF8.self)
        }
        #expect(text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"))
        #expect(text.hasSuffix("\r\n\r\nhello"))
        #expect(!text.lowercased().contains("expect:"))
    }

    /// A body that does not arrive within the request timeout gets 408 and is never sent
    /// on, even if its last bytes come later.
    @Test func aSlowBodyTimesOutAndIsNotSentOn() async throws {
        let origin = try await LoopbackOrigin.start()
        var limits = ServerLimits()
        limits.requestTimeout = .milliseconds(300)
        let upstream = UpstreamSettings.directToLoopback()
        let garden = try await TestGarden(limits: limits, upstream: upstream)
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let port = garden.port
        let authority = "127.0.0.1:\(origin.port)"
        let text = try await RawConnection.offPool { () -> String in
            let connection = try RawConnection(port: port, timeout: 5)
            connection.send(Array("POST http://\(authority)/echo HTTP/1.1\r\nHost: \(authority)\r\nContent-Length: 10\r\n\r\nhalf ".utf8))
            let answer = connection.receive { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
            connection.send(Array("late!".utf8))
            // The connection stays open a while: a fetch it started would have time to reach the origin.
            Thread.sleep(forTimeInterval: 0.5)
            return String(decoding: answer.bytes, as: UTF8.self)
        }
        #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
        try await Task.sleep(for: .milliseconds(200))
        #expect(origin.received.withLock { $0.isEmpty })
    }

    @Test func bodiesTheGardenDoesNotSendOnAreRefused() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden { $0.maxRequestBodyBytes = 10 }
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let authority = "127.0.0.1:\(origin.port)"
        let chunked = try await garden.raw(
            "POST http://\(authority)/echo HTTP/1.1\r\nHost: \(authority)\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        #expect(chunked.status == 411)
        let large = try await garden.raw(Self.proxied("/echo", origin: origin, method: "POST", body: "more than ten bytes"))
        #expect(large.status == 413)
        #expect(large.bodyText.contains("max_request_body"))
        let trace = try await garden.raw(Self.proxied("/echo", origin: origin, method: "TRACE"))
        #expect(trace.status == 501)
        #expect(origin.received.withLock { $0.isEmpty })
    }

    @Test func answersLargerThanTheLimitAreRefusedOrCut() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden { $0.maxResponseBytes = 100_000 }
        defer { afterTest { await garden.stop(); await origin.stop() } }
        // The length is announced: refused before anything is sent.
        let announced = try await garden.raw(Self.proxied("/big/200000", origin: origin))
        #expect(announced.status == 502)
        #expect(announced.bodyText.contains("max_response"))
        // Not announced: passed on until the limit, then cut (no last chunk).
        let unannounced = try await garden.raw(Self.proxied("/big-chunked/200000", origin: origin))
        #expect(unannounced.status == 200)
        #expect(Self.dechunk(unannounced.body) == nil)
        #expect(unannounced.body.count < 120_000)
        // Within the limit: whole.
        let fits = try await garden.raw(Self.proxied("/big/90000", origin: origin))
        #expect(fits.body.count == 90_000)
    }

    @Test func aLargeAnswerArrivesWhole() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let size = 4 << 20
        let chunked = try await garden.raw(Self.proxied("/big-chunked/\(size)", origin: origin), timeout: 20)
        #expect(Self.dechunk(chunked.body)?.count == size)
        let counted = try await garden.raw(Self.proxied("/big/\(size)", origin: origin), timeout: 20)
        #expect(counted.body.count == size && counted.body.allSatisfy { $0 == UInt8(ascii: "x") })
    }

    /// A browser that does not read holds the real host back: the garden passes a part on
    /// only once the browser has taken the last, so it never holds a whole answer.
    @Test func aSlowReaderHoldsTheRealHostBack() async throws {
        let origin = try await LoopbackOrigin.start()
        let size = 64 << 20
        let garden = try await Self.garden { $0.maxResponseBytes = 2 * size }
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let port = garden.port
        let request = Array(Self.proxied("/flood/\(size)", origin: origin).utf8)
        let (whileWaiting, received) = try await RawConnection.offPool { () -> (Int, Int) in
            let connection = try RawConnection(port: port, timeout: 20)
            connection.send(request)
            Thread.sleep(forTimeInterval: 1.5)
            let whileWaiting = origin.floodedBytes
            return (whileWaiting, RawResponse(bytes: connection.receive().bytes).body.count)
        }
        // What the sockets between them hold (a few MiB each way), not the whole 64 MiB.
        #expect(whileWaiting < size / 2, "the real host got \(whileWaiting) bytes out while nobody read")
        #expect(received == size)
    }

    @Test func failuresAreAnsweredInWords() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden {
            $0.readTimeout = .milliseconds(300)
            $0.connectTimeout = .seconds(10)
        }
        defer { afterTest { await garden.stop(); await origin.stop() } }
        // The host answers nothing: 504 after the read timeout.
        let (silent, silentSeconds) = try await Self.timed(Self.proxied("/silent", origin: origin), port: garden.port)
        #expect(silent.status == 504)
        #expect(silent.bodyText.contains("did not answer within the read timeout"))
        #expect(silentSeconds >= 0.25 && silentSeconds < 3, "\(silentSeconds) s")
        // Nothing listens there: 502 at once, not after retrying for the connect timeout.
        let closedPort = try await Self.unusedPort()
        let (refused, refusedSeconds) = try await Self.timed(
            "GET http://127.0.0.1:\(closedPort)/ HTTP/1.1\r\nHost: 127.0.0.1:\(closedPort)\r\nConnection: close\r\n\r\n", port: garden.port
        )
        #expect(refused.status == 502)
        #expect(refused.bodyText.contains("did not accept a connection"), "\(refused.bodyText)")
        #expect(refusedSeconds < 5, "\(refusedSeconds) s")
    }

    @Test func anAnswerFramedTwoWaysIsABadGatewayAndOneUntilCloseArrivesWhole() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let (split, _) = try await Self.timed(Self.proxied("/both-lengths", origin: origin), port: garden.port)
        #expect(split.status == 502)
        #expect(split.bodyText.contains("both Content-Length and Transfer-Encoding"), "\(split.bodyText)")
        #expect(!split.bodyText.contains("split"))
        let (whole, _) = try await Self.timed(Self.proxied("/until-close", origin: origin), port: garden.port)
        #expect(whole.status == 200)
        #expect(Self.dechunk(whole.body) == Array("to the end".utf8), "\(whole.bodyText)")
    }

    /// The answer to `request` and the seconds it took, timed on the socket's own thread
    /// (not counting the wait for one).
    static func timed(_ request: String, port: Int) async throws -> (RawResponse, Double) {
        try await RawConnection.offPool {
            let start = ContinuousClock.now
            let connection = try RawConnection(port: port, timeout: 15)
            connection.send(Array(request.utf8))
            let response = RawResponse(bytes: connection.receive().bytes)
            let elapsed = ContinuousClock.now - start
            return (response, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }

    @Test func theGuardRefusesLoopbackUnlessAllowed() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden(allowLoopback: false)
        defer { afterTest { await garden.stop(); await origin.stop() } }
        for authority in ["127.0.0.1:\(origin.port)", "localhost:\(origin.port)", "[::1]:\(origin.port)", "169.254.169.254"] {
            let response = try await garden.raw("GET http://\(authority)/hello HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\n\r\n")
            #expect(response.status == 403, "\(authority)")
            #expect(response.bodyText.contains("the garden does not connect to"), "\(authority): \(response.bodyText)")
        }
        #expect(origin.received.withLock { $0.isEmpty })
        // The garden's own address through the proxy is still the portal.
        let own = "127.0.0.1:\(garden.port)"
        let portal = try await garden.raw("GET http://\(own)/ HTTP/1.1\r\nHost: \(own)\r\nConnection: close\r\n\r\n")
        #expect(portal.status == 200)
        #expect(portal.bodyText.contains("portal home"), "\(portal.bodyText)")
    }

    @Test func theCensorDecidesBeforeAnythingLeaves() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let blocked = try await garden.raw("GET http://blocked.example/ HTTP/1.1\r\nHost: blocked.example\r\nConnection: close\r\n\r\n")
        #expect(blocked.status == 403)
        // A simulated site is served from Sites/, never fetched.
        let site = try await garden.raw("GET http://alpha.kp/page.html HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n")
        #expect(site.status == 200 && site.header("Via") == nil)
        #expect(origin.received.withLock { $0.isEmpty })
    }

    @Test func onlyTheNamedClassesLeaveTheGarden() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden(personas: ["citizen", "official"]) { $0.classes = ["official"] }
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let request = Self.proxied("/hello", origin: origin)
        let citizen = try await garden.raw(request, port: garden.ports[0])
        #expect(citizen.status == 404)  // as if the garden had no way out
        let official = try await garden.raw(request, port: garden.ports[1])
        #expect(official.status == 200 && official.bodyText == "hello from beyond the wall")
    }

    @Test func aThrottledAnswerFromTheRealHostKeepsToItsRate() async throws {
        let origin = try await LoopbackOrigin.start()
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let port = garden.port
        let request = Array(Self.proxied("/slow-big/65536", origin: origin).utf8)
        let (bytes, seconds) = try await RawConnection.offPool { () -> (Int, Double) in
            let connection = try RawConnection(port: port, timeout: 10)
            let start = ContinuousClock.now
            connection.send(request)
            let received = connection.receive().bytes
            let elapsed = ContinuousClock.now - start
            return (RawResponse(bytes: received).body.count, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        #expect(bytes == 65536)
        // 64 KiB at 64 KiB/s, less the bucket's first tenth of a second: never faster. (A
        // loaded machine makes it slower, as far as it delays the throttle's timer; the
        // upper bound only tells a paced answer from a stalled one.)
        #expect(seconds > 0.75 && seconds < 8, "took \(seconds) s")
    }

    /// `explain`, `check`, `replay` and the desk find the site as the data plane does:
    /// with a way out, an address or `localhost` on another port than the garden's is
    /// the real network, not the portal.
    @Test(arguments: [
        ("http://127.0.0.1:9999/", [8080] as [Int]?, nil as Zone?),
        ("http://127.0.0.1:8080/", [8080], .intranet),
        ("http://localhost:9999/", [8080], nil),
        ("http://alpha.kp.localhost/", [8080], .intranet),
        ("http://outside.example/", [8080], .internet),
        ("http://127.0.0.1:9999/", nil, .intranet),
    ])
    func teachingToolsFindTheSiteAsTheGardenDoes(url: String, gardenPorts: [Int]?, zone: Zone?) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        // The garden's listener on `gardenPorts`; a way out when it has one.
        var config = garden.config
        if let gardenPorts {
            config.listeners = gardenPorts.map { .init(address: ListenAddress(host: "127.0.0.1", port: $0)) }
            config.upstream.mode = .direct
        }
        let planned = try VisitPlanner(sites: SiteFolders(config: config, directory: garden.sitesDirectory.path))
            .plan(Visit(url: url, time: 0))
        #expect(try #require(planned.facts).zone == zone)
    }

    /// With a way out, the PAC file sends every address through the garden, so the censor
    /// sees the real web too (without one, the rest goes direct: TunnelTests).
    @Test func thePACFileSendsEverythingThroughAGardenWithAWayOut() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let pac = try await garden.get("/proxy.pac", host: "127.0.0.1:\(garden.port)").bodyText
        #expect(pac.contains("every address through the garden"))
        #expect(pac.contains("  return garden;\n}"))
        #expect(!pac.contains("DIRECT"))
    }

    /// A port nothing listens on (bound, then closed).
    static func unusedPort() async throws -> Int {
        let origin = try await LoopbackOrigin.start()
        let port = origin.port
        await origin.stop()
        return port
    }
}
