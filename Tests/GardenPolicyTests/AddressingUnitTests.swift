@testable import GardenPolicy
import Testing

/// Host normalisation, request-target forms and the host-to-site rules, without sockets.
@Suite struct AddressingUnitTests {
    @Test(arguments: [
        ("friend.com.kp", "friend.com.kp", nil, false),
        ("FRIEND.com.KP", "friend.com.kp", nil, false),
        ("friend.com.kp.", "friend.com.kp", nil, false),
        ("friend.com.kp:8080", "friend.com.kp", 8080, false),
        ("friend.com.kp.:80", "friend.com.kp", 80, false),
        ("127.0.0.1", "127.0.0.1", nil, true),
        ("127.0.0.1:8080", "127.0.0.1", 8080, true),
        ("[::1]", "::1", nil, true),
        ("[::1]:8080", "::1", 8080, true),
        ("xn--bj0bj06e.kp", "xn--bj0bj06e.kp", nil, false),
    ] as [(String, String, Int?, Bool)])
    func hostsNormalise(raw: String, name: String, port: Int?, isIP: Bool) throws {
        let host = try #require(HostName(authority: raw))
        #expect(host.name == name)
        #expect(host.port == port)
        #expect(host.isIPLiteral == isIP)
    }

    @Test(arguments: [
        ("0.0.0.0", true), ("127.0.0.1", true), ("255.255.255.255", true), ("10.01.1.1", true),
        ("256.1.1.1", false), ("1.2.3", false), ("1.2.3.4.5", false), ("1..2.3", false), ("1234.1.1.1", false),
        ("a.b.c.d", false), ("1.2.3.", false), (".1.2.3", false), ("1.2.3.4 ", false), ("", false), ("1.2.3.999", false),
    ])
    func ipv4AddressesAreTold(text: String, isIPv4: Bool) {
        #expect(HostName.isIPv4(text) == isIPv4)
    }

    @Test(arguments: ["", ".", "a..b", ".a", "-a", "a-", "a b", "a/b", "a:b:c", "a:", "a:65536", "[::1", "[zz]", "한국.kp", "a@b",
        // Bracketed strings of hex digits, colons and dots that are not IPv6 addresses (RFC 3986)
        "[::::::]", "[:::]", "[1::2::3]", "[1:2:3:4:5:6:7:8:9]", "[12345::]", "[::1.2.3]", "[::1.2.3.256]", "[1.2.3.4]", "[.:]",
        "[v1.fe80::a]", "[fe80::1%25eth0]",
        // Two trailing dots: the root's, and an empty label (found by the request-target fuzzer)
        "a..", "friend.com.kp..", "friend.com.kp..:8080"])
    func invalidHostsAreRefused(raw: String) {
        #expect(HostName(authority: raw) == nil)
    }

    @Test func absoluteFormTakesTheURLsHost() throws {
        let target = try RequestTarget.parse(
            method: "GET", uri: "http://Friend.com.kp:80/feed?x=1#top", host: "other.kp", requiresHost: true
        ).get()
        #expect(target.form == .absolute)
        #expect(target.host.name == "friend.com.kp")
        #expect(target.pathAndQuery == "/feed?x=1")
    }

    @Test(arguments: [
        ("http://a.kp", "/"),
        ("http://a.kp?q", "/?q"),
        ("HTTP://a.kp/x", "/x"),
        ("https://a.kp/x", "/x"),
        ("hTtPs://a.kp/x#frag", "/x"),
        ("http://a.kp#top", "/"),
        ("http://a.kp/x://y?z=1", "/x://y?z=1"),
    ])
    func absoluteFormPaths(uri: String, path: String) throws {
        let target = try RequestTarget.parse(method: "GET", uri: uri, host: nil, requiresHost: true).get()
        #expect(target.pathAndQuery == path)
        #expect(target.host.name == "a.kp")
        #expect(target.isHTTPS == uri.lowercased().hasPrefix("https:"))
    }

    @Test(arguments: [
        ("GET", "/", nil, true, RequestTarget.Problem.missingHost),
        ("GET", "/", "bad host", true, .invalidHost("bad host")),
        ("GET", "ftp://a.kp/", nil, true, .unsupportedScheme("ftp")),
        ("GET", "http://u:p@a.kp/", nil, true, .userInfoInURL),
        ("GET", "a.kp/x", nil, true, .malformedTarget),
        ("GET", "http:/a.kp/x", nil, true, .malformedTarget),
        ("GET", "HTTPX://a.kp/", nil, true, .unsupportedScheme("httpx")),
        ("CONNECT", "a.kp", nil, true, .invalidHost("a.kp")),
    ] as [(String, String, String?, Bool, RequestTarget.Problem)])
    func badTargets(method: String, uri: String, host: String?, requiresHost: Bool, problem: RequestTarget.Problem) {
        #expect(throws: problem) {
            try RequestTarget.parse(method: method, uri: uri, host: host, requiresHost: requiresHost).get()
        }
    }

    @Test func connectNamesHostAndPort() throws {
        let target = try RequestTarget.parse(method: "CONNECT", uri: "a.kp:443", host: nil, requiresHost: true).get()
        #expect(target.form == .authority)
        #expect(target.host.port == 443)
    }

    static let registry = SiteRegistry(
        sites: [
            SiteEntry(host: "portal.kp", zone: .intranet),
            SiteEntry(host: "friend.com.kp", aliases: ["www.friend.com.kp"], zone: .intranet),
        ],
        portalHost: "portal.kp"
    )

    @Test(arguments: [
        ("friend.com.kp", "friend.com.kp"),
        ("www.friend.com.kp", "friend.com.kp"),
        ("friend.com.kp.localhost", "friend.com.kp"),
        ("www.friend.com.kp.localhost:8080", "friend.com.kp"),
        ("localhost", "portal.kp"),
        ("localhost:8080", "portal.kp"),
        ("10.1.2.3", "portal.kp"),
        ("[::1]:8080", "portal.kp"),
        ("nowhere.kp", nil),
        ("nowhere.localhost", nil),
        ("friend.com.kp.localhost.example", nil),
    ] as [(String, String?)])
    func hostsReachSites(raw: String, site: String?) throws {
        let host = try #require(HostName(authority: raw))
        #expect(Self.registry.site(for: host)?.host == site)
    }

    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080, true),
        ("[::1]:9000", "::1", 9000, true),
        ("0.0.0.0:80", "0.0.0.0", 80, false),
        ("localhost:1", "localhost", 1, true),
        ("8080", "127.0.0.1", 8080, true),
    ])
    func listenAddresses(text: String, host: String, port: Int, loopback: Bool) throws {
        let address = try #require(ListenAddress(text))
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.isLoopback == loopback)
    }

    @Test(arguments: ["", ":", "host", "host:x", "1.2.3.4:70000", "[::1]", "[::1]8080", "::1:8080"])
    func badListenAddresses(text: String) {
        #expect(ListenAddress(text) == nil)
    }
}
