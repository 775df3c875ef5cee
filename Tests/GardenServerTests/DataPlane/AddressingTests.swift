import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Which site a request reaches: by Host header, by NAME.localhost, by IP or bare
/// localhost (the portal), and as a proxy request with an absolute URL.
@Suite(.stopsWhatItStarts) struct AddressingTests {
    @Test(arguments: [
        ("alpha.kp", "alpha home"),
        ("ALPHA.KP", "alpha home"),
        ("alpha.kp.", "alpha home"),
        ("alpha.kp:8080", "alpha home"),
        ("www.alpha.kp", "alpha home"),
        ("alpha.kp.localhost", "alpha home"),
        ("alpha.kp.localhost:8080", "alpha home"),
        ("Alpha.KP.Localhost.:8080", "alpha home"),
        ("localhost", "portal home"),
        ("localhost:8080", "portal home"),
        ("127.0.0.1", "portal home"),
        ("127.0.0.1:8080", "portal home"),
        ("[::1]:8080", "portal home"),
        ("outside.example", "outside home"),
    ])
    func hostHeaderChoosesTheSite(host: String, expected: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/", host: host)
        #expect(response.status == 200)
        #expect(response.bodyText.contains(expected))
    }

    @Test(arguments: ["nowhere.kp", "nowhere.kp.localhost", "evil.example:80"])
    func unknownHostGetsTheDoesNotExistPage(host: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/", host: host)
        #expect(response.status == 404)
        #expect(response.bodyText.contains("does not exist on the national network"))
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
    }

    @Test(arguments: ["bad host", "a..b", "-", "-a.kp", "a-.kp", "exa mple.kp", "[zz]", "host:99999", "host:", "ünïcode.kp"])
    func invalidHostIsABadRequest(host: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/", host: host)
        #expect(response.status == 400)
    }

    @Test func http11WithoutHostIsABadRequest() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(response.status == 400)
    }

    @Test func http10WithoutHostReachesThePortal() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw("GET / HTTP/1.0\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.bodyText.contains("portal home"))
        #expect(response.header("Connection") == "close")
    }

    @Test func absoluteFormURLWinsOverHostHeader() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw(
            "GET http://alpha.kp/page.html HTTP/1.1\r\nHost: portal.kp\r\nConnection: close\r\n\r\n"
        )
        #expect(response.status == 200)
        #expect(response.bodyText.contains("alpha page"))
    }

    @Test(arguments: [
        ("GET http://alpha.kp HTTP/1.1", 200, "alpha home"),
        ("GET http://ALPHA.kp:80/page.html?x=1 HTTP/1.1", 200, "alpha page"),
        ("GET http://localhost:8080/ HTTP/1.1", 200, "portal home"),
        ("GET http://user:pw@alpha.kp/ HTTP/1.1", 400, ""),
        ("GET ftp://alpha.kp/ HTTP/1.1", 400, ""),
        ("GET http://nowhere.kp/ HTTP/1.1", 404, "does not exist"),
    ])
    func absoluteFormTargets(requestLine: String, status: Int, expected: String) async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.raw("\(requestLine)\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(response.status == status)
        if !expected.isEmpty { #expect(response.bodyText.contains(expected)) }
    }

    /// curl configured to use the garden as its HTTP proxy (`curl -x`), as the README says.
    ///
    /// curl rather than AsyncHTTPClient: AsyncHTTPClient opens a CONNECT tunnel even for
    /// plain-http URLs, and tunnels arrive in a later version; curl sends absolute-form.
    @Test func curlThroughTheProxy() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let proxy = "http://127.0.0.1:\(garden.port)"
        let page = try await Curl.run(["-s", "-x", proxy, "http://alpha.kp/docs/guide.html"])
        #expect(page.contains("guide"))
        let status = try await Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy, "http://nowhere.kp/"])
        #expect(status == "404")
        let localhost = try await Curl.run(["-s", "-x", proxy, "http://alpha.kp.localhost/"])
        #expect(localhost.contains("alpha home"))
    }

    /// A real client by virtual host, with keep-alive across requests.
    @Test func realClientByVirtualHost() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { afterTest { try? await client.shutdown() } }
        for path in ["/", "/page.html", "/docs/", "/style.css"] {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(garden.port)\(path)")
            request.headers.add(name: "Host", value: "alpha.kp.localhost:\(garden.port)")
            let response = try await client.execute(request, timeout: .seconds(5))
            #expect(response.status == .ok, "\(path)")
            _ = try await response.body.collect(upTo: 1 << 20)
        }
    }

    @Test func connectWithoutAWayOutIsABadGateway() async throws {
        let garden = try await TestGarden()
        defer { afterTest { await garden.stop() } }
        // (A simulated site's tunnel is answered by the garden itself: SiteTunnelTests.)
        let response = try await garden.raw("CONNECT elsewhere.example:443 HTTP/1.1\r\nHost: elsewhere.example:443\r\n\r\n")
        #expect(response.status == 502)
        #expect(response.bodyText.contains("it has no way out to the real internet (upstream is off in garden.yaml)"))
        #expect(response.header("Connection") == "close")
    }
}
