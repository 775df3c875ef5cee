import Foundation
import GardenPolicy
import GardenServer
import Testing

/// Accounts over real sockets: 401 with `WWW-Authenticate` on the garden's own
/// addresses, 407 with `Proxy-Authenticate` through the proxy, the account's class
/// winning over the listener's persona, and wrong or unknown credentials refused alike.
@Suite(.stopsWhatItStarts) struct AuthTests {
    /// `walled-garden hash-password --cost 10` of "kim" and "lee" (the cheapest accepted cost).
    static let kimHash = "$scrypt$ln=10,r=8,p=1$UwjDKCb3edFgdiJwhoM7FQ$vNtQOl/T3oE9qvM4LWl1h56c+pY2aDEWXATGsLrCjDM"
    static let leeHash = "$scrypt$ln=10,r=8,p=1$yozwQKhWkLDRLJHM7L1v+A$SPNho7xyu+FvtyT3D+XZFtSuOS7rEeiZ4ldKuXY2aQI"

    static let policyText = """
    classes:
      citizen: Citizens.
      official: Officials.
      foreigner: Guests.
    default_class: citizen
    realm: Kwangmyong
    accounts:
      kim: {class: official, password: "\(kimHash)"}
      lee: {class: citizen, password: "\(leeHash)"}
    rules:
      - id: docs-need-sign-in
        reason: The documents are for those who signed in.
        paths: [/docs/]
        signed_in: false
        action: authenticate
      - id: officials-everywhere
        reason: Officials see everything.
        classes: [official]
        action: allow
      - id: docs-for-officials
        reason: Only officials read the documents.
        paths: [/docs/]
        action: block
      - id: foreigners-outside
        reason: Guests stay outside.
        classes: [foreigner]
        zone: intranet
        action: notfound
    default: allow
    """

    static func garden() async throws -> TestGarden {
        let policy = try Policy.parse(.init(file: "policy.yaml", text: policyText))
        return try await TestGarden(policy: policy, personas: [nil, "foreigner"])
    }

    static func basic(_ name: String, _ password: String) -> String {
        "Basic " + Data("\(name):\(password)".utf8).base64EncodedString()
    }

    @Test func aRuleAsksForAPasswordWith401() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/docs/guide.html")
        #expect(response.status == 401)
        // The folder itself is under the prefix too.
        #expect(try await garden.get("/docs/").status == 401)
        #expect(try await garden.get("/docs//./").status == 401)
        #expect(response.header("WWW-Authenticate") == "Basic realm=\"Kwangmyong\", charset=\"UTF-8\"")
        #expect(response.bodyText.contains("Sign in"))
    }

    @Test(arguments: [
        ("kim", "kim", 200),   // an official may read them
        ("lee", "lee", 403),   // signed in, but a citizen
        ("kim", "lee", 401),   // wrong password
        ("park", "park", 401), // no such account
    ])
    func credentialsDecideWhoTheVisitorIs(name: String, password: String, status: Int) async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/docs/guide.html", headers: ["Authorization: \(Self.basic(name, password))"])
        #expect(response.status == status)
        if status == 401 {
            #expect(response.bodyText.contains("wrong name or password"))
        }
    }

    @Test(arguments: ["Basic", "Basic !!!!", "Bearer abc", "Basic " + Data("no-colon".utf8).base64EncodedString()])
    func malformedCredentialsAreChallenged(field: String) async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let response = try await garden.get("/page.html", headers: ["Authorization: \(field)"])
        #expect(response.status == 401)
        #expect(response.header("WWW-Authenticate") != nil)
    }

    @Test func theProxyAsksWith407AndCurlSignsIn() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let proxy = "http://127.0.0.1:\(garden.port)"
        let format = "%{http_code}"
        let challenged = try await Curl.run(["-s", "-o", "/dev/null", "-D", "-", "-x", proxy, "http://alpha.kp/docs/guide.html"])
        #expect(challenged.hasPrefix("HTTP/1.1 407 Proxy Authentication Required"))
        #expect(challenged.contains("Proxy-Authenticate: Basic realm=\"Kwangmyong\", charset=\"UTF-8\""))
        let signedIn = try await Curl.run(["-s", "-o", "/dev/null", "-w", format, "-x", proxy, "--proxy-user", "kim:kim", "http://alpha.kp/docs/guide.html"])
        #expect(signedIn == "200")
        // Through the proxy, Authorization is meant for the site, not the garden.
        let wrongField = try await Curl.run(["-s", "-o", "/dev/null", "-w", format, "-x", proxy, "-u", "kim:kim", "http://alpha.kp/docs/guide.html"])
        #expect(wrongField == "407")
        // On the garden's own address, curl -u sends Authorization.
        let direct = try await Curl.run(["-s", "-o", "/dev/null", "-w", format, "-u", "kim:kim", "-H", "Host: alpha.kp", "http://127.0.0.1:\(garden.port)/docs/guide.html"])
        #expect(direct == "200")
    }

    @Test func theAccountWinsOverTheListenersPersona() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let foreignPort = garden.ports[1]
        #expect(try await garden.get("/page.html", port: foreignPort).status == 404)
        let signedIn = try await garden.get("/page.html", headers: ["Authorization: \(Self.basic("kim", "kim"))"], port: foreignPort)
        #expect(signedIn.status == 200)
        #expect(signedIn.bodyText.contains("alpha page"))
    }

    @Test func pipelinedRequestsWaitForThePasswordCheckInOrder() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let auth = "Authorization: \(Self.basic("kim", "kim"))\r\n"
        let requests = "GET /docs/guide.html HTTP/1.1\r\nHost: alpha.kp\r\n\(auth)\r\n"
            + "GET /page.html HTTP/1.1\r\nHost: alpha.kp\r\n\r\n"
            + "GET /docs/index.html HTTP/1.1\r\nHost: alpha.kp\r\n\(auth)Connection: close\r\n\r\n"
        let response = try await garden.raw(requests)
        let text = String(decoding: response.bytes, as: UTF8.self)
        // Bodies do not end in a line break: count status lines wherever they start.
        #expect(text.components(separatedBy: "HTTP/1.1 ").count - 1 == 3)
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1 == 3)
        let guide = try #require(text.range(of: "<h1>guide</h1>"))
        let page = try #require(text.range(of: "<h1>alpha page</h1>"))
        let docs = try #require(text.range(of: "<h1>docs index</h1>"))
        #expect(guide.lowerBound < page.lowerBound && page.lowerBound < docs.lowerBound)
    }

    @Test func aRememberedPasswordIsNotCheckedAgain() async throws {
        let garden = try await Self.garden()
        defer { afterTest { await garden.stop() } }
        let field = "Authorization: \(Self.basic("kim", "kim"))"
        #expect(try await garden.get("/docs/guide.html", headers: [field]).status == 200)
        #expect(garden.server.passwordChecksPerformed == 1)
        // Later requests are answered from memory: scrypt does not run again. (Counted,
        // not timed: under a loaded CI machine even a remembered answer took 60 ms.)
        for _ in 0..<5 {
            #expect(try await garden.get("/docs/guide.html", headers: [field]).status == 200)
        }
        #expect(garden.server.passwordChecksPerformed == 1)
        // A wrong password is checked (and not remembered as right).
        #expect(try await garden.get("/docs/guide.html", headers: ["Authorization: \(Self.basic("kim", "wrong"))"]).status == 401)
        #expect(garden.server.passwordChecksPerformed == 2)
    }
}
