import Foundation
import GardenPolicy
import Testing

/// Every censor style over real sockets, with the fingerprint a student sees with curl.
@Suite(.stopsWhatItStarts) struct CensorStyleTests {
    static let policyText = """
    classes:
      citizen: Citizens.
      official: Officials.
    default_class: citizen
    rules:
      - id: see-all
        reason: Officials see everything.
        classes: [official]
        action: allow
      - id: blocked
        reason: Blocked.
        paths: [/block/]
        action: block
      - id: legal
        reason: Legal reasons.
        paths: [/legal/]
        action: unavailable
      - id: hidden
        reason: Pretend it does not exist.
        hosts: [outside.example]
        action: notfound
      - id: elsewhere
        reason: Go to the portal.
        paths: [/moved/]
        action: redirect
        to: http://portal.kp/
      - id: dropped
        reason: Drop.
        paths: [/drop/]
        action: drop
      - id: reset
        reason: Reset.
        paths: [/reset/]
        action: reset
      - id: stalled
        reason: Stall.
        paths: [/stall/]
        action: stall
        for: 1s
      - id: watch-docs
        reason: Watch the docs.
        paths: [/docs/]
        effects: [monitor]
      - id: maybe-page
        reason: Trying a rule in the shadows.
        paths: [/page.html]
        action: block
        shadow: true
    default: allow
    """

    static func garden() async throws -> TestGarden {
        let policy = try Policy.parse(.init(file: "policy.yaml", text: policyText))
        return try await TestGarden(policy: policy, personas: [nil, "official"])
    }

    @Test func allowServesThePage() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        #expect(try await garden.get("/page.html").status == 200)   // the shadow rule is not applied
        #expect(try await garden.get("/docs/guide.html").status == 200)
    }

    @Test func blockIs403WithABlockPage() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/block/x")
        #expect(response.status == 403)
        #expect(response.bodyText.contains("not available on the national network"))
    }

    @Test func unavailableIs451WithBlockedByLink() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/legal/x")
        #expect(response.status == 451)
        #expect(response.header("Link") == "<http://portal.kp/authority.html>; rel=\"blocked-by\"")
    }

    @Test func notfoundLooksExactlyLikeAnAddressThatDoesNotExist() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let hidden = try await garden.get("/", host: "outside.example")
        let missing = try await garden.get("/", host: "nowhere.example")
        #expect(hidden.status == 404 && missing.status == 404)
        #expect(hidden.bodyText.replacingOccurrences(of: "outside.example", with: "HOST")
            == missing.bodyText.replacingOccurrences(of: "nowhere.example", with: "HOST"))
        #expect(hidden.header("Content-Type") == missing.header("Content-Type"))
    }

    @Test func redirectIs302ToTheAlternative() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/moved/x")
        #expect(response.status == 302)
        #expect(response.header("Location") == "http://portal.kp/")
    }

    @Test func dropClosesWithoutAnAnswer() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let (bytes, closed) = try await RawConnection.offPool {
            let connection = try RawConnection(port: garden.port, timeout: 3)
            connection.send(Array("GET /drop/x HTTP/1.1\r\nHost: alpha.kp\r\n\r\n".utf8))
            return connection.receive()
        }
        #expect(bytes.isEmpty)
        #expect(closed)
    }

    @Test func resetResetsTheConnection() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let (bytes, reset) = try await RawConnection.offPool {
            let connection = try RawConnection(port: garden.port, timeout: 3)
            connection.send(Array("GET /reset/x HTTP/1.1\r\nHost: alpha.kp\r\n\r\n".utf8))
            var byte: UInt8 = 0
            let count = recv(connection.descriptor, &byte, 1, 0)
            return (count, count < 0 && errno == ECONNRESET)
        }
        #expect(bytes == -1)
        #expect(reset, "expected ECONNRESET")
    }

    @Test func stallHoldsTheConnectionThenCloses() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        // Timed from the connection, not from the test: the shared socket threads may queue.
        let (bytes, closed, waited) = try await RawConnection.offPool {
            let start = ContinuousClock.now
            let connection = try RawConnection(port: garden.port, timeout: 5)
            connection.send(Array("GET /stall/x HTTP/1.1\r\nHost: alpha.kp\r\n\r\n".utf8))
            let (bytes, closed) = connection.receive()
            return (bytes, closed, ContinuousClock.now - start)
        }
        #expect(bytes.isEmpty)
        #expect(closed)
        #expect(waited >= .milliseconds(900) && waited < .seconds(4), "\(waited)")
    }

    @Test func teachingModeExplainsBlocksAndNamesTheRule() async throws {
        let text = Self.policyText.replacingOccurrences(
            of: "default_class: citizen\n", with: "default_class: citizen\nteaching:\n  explain_blocks: true\n"
        )
        let garden = try await TestGarden(policy: try Policy.parse(.init(file: "policy.yaml", text: text)))
        defer { afterTest { await garden.stop() } }
        let blocked = try await garden.get("/block/x")
        #expect(blocked.status == 403)
        #expect(blocked.header("X-Garden-Rule") == "blocked")
        #expect(blocked.bodyText.contains("Teacher's note"))
        #expect(blocked.bodyText.contains("Rule <code>blocked</code> decided this for a visitor of class <code>citizen</code>: Blocked."))
        let allowed = try await garden.get("/page.html")
        #expect(allowed.status == 200)
        #expect(allowed.header("X-Garden-Rule") == "default")
    }

    @Test func withoutTeachingModeNothingTellsOfRules() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let blocked = try await garden.get("/block/x")
        #expect(blocked.header("X-Garden-Rule") == nil)
        #expect(!blocked.bodyText.contains("Teacher's note"))
        #expect(!blocked.bodyText.contains("blocked</code>"))
    }

    @Test func aClientAddressRangeGivesTheClass() async throws {
        let text = Self.policyText.replacingOccurrences(
            of: "default_class: citizen\n", with: "default_class: citizen\naddresses:\n  - clients: [127.0.0.0/8]\n    class: official\n"
        )
        let garden = try await TestGarden(policy: try Policy.parse(.init(file: "policy.yaml", text: text)), personas: [nil, "citizen"])
        defer { afterTest { await garden.stop() } }
        // Loopback clients are officials on the listener without a persona...
        #expect(try await garden.get("/", host: "outside.example").status == 200)
        // ... and the persona wins where there is one.
        #expect(try await garden.get("/", host: "outside.example", port: garden.ports[1]).status == 404)
    }

    @Test func aPersonaListenerSeesItsOwnWorld() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let official = garden.ports[1]
        #expect(try await garden.get("/block/x", port: official).status == 404)   // allowed: the file does not exist
        #expect(try await garden.get("/", host: "outside.example", port: official).status == 200)
        #expect(try await garden.get("/", host: "outside.example").status == 404)
    }
}

/// The shipped Kwangmyong scenario on its three persona ports, as a teacher shows it.
@Suite(.stopsWhatItStarts) struct ShippedScenarioTests {
    static let garden = Task { () throws -> (TestGarden, [String: Int]) in
        let shipped = try ConfigCheckTests.loadShippedConfig(repository: Shipped.root)
        let garden = try await TestGarden(policy: shipped.policy, personas: ["citizen", "official", "foreigner"])
        return (garden, ["citizen": garden.ports[0], "official": garden.ports[1], "foreigner": garden.ports[2]])
    }

    @Test(arguments: [
        ("citizen", "alpha.kp", 200), ("citizen", "outside.example", 404),
        ("official", "alpha.kp", 200), ("official", "outside.example", 200),
        ("foreigner", "alpha.kp", 404), ("foreigner", "outside.example", 200),
    ])
    func whoSeesWhat(persona: String, host: String, status: Int) async throws {
        let (garden, ports) = try await Self.garden.value
        #expect(try await garden.get("/", host: host, port: ports[persona]).status == status)
    }
}
