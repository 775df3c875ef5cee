import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import Testing

/// CONNECT as the censor sees it: decided on host and port like any request, the path
/// unknown; a simulated site's tunnel opened (the garden is its end: `SiteTunnelTests`),
/// any other refused with 502 (the garden has no way out here); ports beyond the
/// configured ones refused; each logged. And the PAC file that sets a browser up.
@Suite(.stopsWhatItStarts) struct TunnelTests {
    static let policyText = """
    classes: {citizen: Citizens., official: Officials.}
    default_class: citizen
    rules:
      - id: officials-anywhere
        reason: Officials.
        classes: [official]
        action: allow
      - id: no-paths-in-tunnels
        reason: A path rule cannot see inside a tunnel.
        paths: [/]
        hosts: [portal.kp]
        action: block
      - id: outside-is-not-there
        reason: The outside does not exist.
        zone: internet
        action: notfound
      - id: unknown-is-unavailable
        reason: Hosts the garden does not know.
        hosts: ["*.example", "*.com"]
        action: unavailable
    default: allow
    """

    static func garden() async throws -> TestGarden {
        try await TestGarden(
            policy: try Policy.parse(.init(file: "policy.yaml", text: policyText)), personas: [nil, "official"],
            auditLog: AuditLogSettings(path: "audit.jsonl")
        )
    }

    static func connect(_ authority: String, on garden: TestGarden, port: Int? = nil) async throws -> RawResponse {
        try await garden.raw("CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n\r\n", port: port)
    }

    /// The head of the answer to a CONNECT: a tunnel that opens stays open, so only the head is read.
    static func connectHead(_ authority: String, on garden: TestGarden, port: Int? = nil) async throws -> RawResponse {
        let port = port ?? garden.port
        return try await RawConnection.offPool {
            let connection = try RawConnection(port: port, timeout: 5)
            connection.send(Array("CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n\r\n".utf8))
            return RawResponse(bytes: connection.receive { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }.bytes)
        }
    }

    @Test(arguments: [
        // authority, citizen's status, official's status
        ("alpha.kp:443", 200, 200),
        ("outside.example:443", 404, 200),
        ("elsewhere.example:443", 451, 502),
        ("portal.kp:443", 200, 200),      // the /-path rule does not see into tunnels
        ("alpha.kp:80", 200, 200),
        ("alpha.kp:22", 403, 403),        // not a tunnel port
        ("alpha.kp:8443", 403, 403),
    ])
    func connectIsDecidedOnHostAndPort(authority: String, citizen: Int, official: Int) async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let asCitizen = try await Self.connectHead(authority, on: garden)
        #expect(asCitizen.status == citizen)
        if citizen != 200 { #expect(asCitizen.header("Connection") == "close") }
        #expect(try await Self.connectHead(authority, on: garden, port: garden.ports[1]).status == official)
    }

    @Test func refusedPortsSayWhichAreOpen() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        #expect(try await Self.connect("alpha.kp:22", on: garden).bodyText.contains("tunnels go to ports 80, 443 only"))
        #expect(try await Self.connect("alpha.kp", on: garden).status == 400)  // CONNECT needs a port
    }

    @Test func tunnelsAreLogged() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        _ = try await Self.connect("outside.example:443", on: garden)
        await garden.server.audit.flush()
        let event = try #require(try AuditLogTests.events(in: garden.auditLogPath ?? "").first)
        #expect(event.method == "CONNECT")
        #expect(event.url == "outside.example:443")
        #expect(event.host == "outside.example")
        #expect(event.rule == "outside-is-not-there")
        #expect(event.action == "notfound")
        #expect(event.status == 404)
    }

    @Test func explainSaysTheTunnelsPathIsUnseen() throws {
        let policy = try Policy.parse(.init(file: "policy.yaml", text: Self.policyText))
        let registry = SiteRegistry(sites: [SiteEntry(host: "portal.kp", zone: .intranet)], portalHost: "portal.kp")
        var config = GardenConfig(listeners: [.init(address: ListenAddress(host: "127.0.0.1", port: 8080))], sites: registry, policy: policy)
        config.tunnelPorts = [443]
        let planned = try VisitPlanner(sites: SiteFolders(config: config, directory: "/nonexistent")).plan(
            Visit(url: "portal.kp:443", method: "CONNECT", persona: "citizen", time: 0)
        )
        let facts = try #require(planned.facts)
        #expect(facts.path == "")
        let lines = Explanation(policy: policy, request: facts, decision: try #require(planned.decision), howClassWasFound: "from --as", url: "portal.kp:443").lines
        #expect(lines.contains { $0.hasPrefix("A tunnel (CONNECT): the censor sees the host and port, not the path") })
        #expect(lines.contains { $0.contains("no-paths-in-tunnels — does not apply: it is only for when the path is /") })
        #expect(lines.last { $0.hasPrefix("Decision:") }?.hasPrefix("Decision: allow (the tunnel is let through; where it leads is said below)") == true)
    }

    @Test func thePACFileSendsTheGardensSitesThroughThisListener() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/proxy.pac", host: "127.0.0.1:\(garden.port)")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/x-ns-proxy-autoconfig")
        let pac = response.bodyText
        #expect(pac.contains("var garden = \"PROXY 127.0.0.1:\(garden.port)\";"))
        for name in ["portal.kp", "www.portal.kp", "alpha.kp", "outside.example"] {
            #expect(pac.contains("\"\(name)\": true"))
        }
        // A site's own /proxy.pac is the site's business, not the garden's.
        #expect(try await garden.get("/proxy.pac", host: "alpha.kp").status == 404)
        // Run it as a browser would: a JavaScript engine (node, which .ci/run installs) is required.
        let script = pac + """
            function dnsDomainIs(host, domain) { return host.length >= domain.length && host.endsWith(domain); }
            console.log([FindProxyForURL("http://alpha.kp/", "alpha.kp"), FindProxyForURL("https://WWW.Portal.kp/", "WWW.Portal.kp"),
              FindProxyForURL("http://news.kp/", "news.kp"), FindProxyForURL("http://outside.example/", "outside.example"),
              FindProxyForURL("https://example.org/", "example.org")].join("|"));
            """
        // Run and waited for off the test's thread: a blocking wait on one of the two
        // cooperative threads stalls every other test's timers meanwhile.
        let (status, printed) = try await RawConnection.offPool { () throws -> (Int32, String) in
            let node = Process()
            node.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            node.arguments = ["node", "-e", script]
            let output = Pipe()
            node.standardOutput = output
            try node.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            node.waitUntilExit()
            return (node.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        try #require(status == 0, "node is needed to run the PAC file (apt-get install nodejs)")
        let proxy = "PROXY 127.0.0.1:\(garden.port)"
        #expect(printed == [proxy, proxy, proxy, proxy, "DIRECT"].joined(separator: "|") + "\n")
    }
}
