import Foundation
@testable import GardenAudit
import GardenPolicy
@testable import GardenServer
import GardenSites
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// Routing, identity and censorship as tables, without a socket: a request head and the
/// garden's state in, a plan out (`ExchangePlanner`). The same requests over real sockets
/// are in the other suites; these say which plan each one gets, and why.
@Suite struct ExchangePlannerTests {
    static let policyText = """
    classes:
      citizen: Citizens.
      official: Officials.
    default_class: citizen
    accounts:
      kim: {class: official, password: "\(AuthTests.kimHash)"}
    rules:
      - id: see-all
        reason: Officials see everything.
        classes: [official]
        action: allow
      - id: no-outside
        reason: Citizens stay inside.
        classes: [citizen]
        zone: internet
        action: notfound
      - id: blocked
        reason: Blocked.
        paths: [/block/]
        action: block
      - id: slow
        reason: Slow.
        paths: [/page.html]
        effects: [{throttle: {rate: 32KiB}}]
      - id: corrected
        reason: Corrected.
        paths: [/docs/]
        effects: [{rewrite: {substitute: {guide: handbook}}}]
    default: allow
    """

    /// The garden of `TestGarden.defaultFiles` on one event loop of the test's own.
    final class World {
        let folder: URL
        let sites: LoopLocalSites
        let store: PolicyStore
        let itself = GardenItself()

        init(explainBlocks: Bool = false) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("planner-\(UUID().uuidString)")
            for (path, text) in TestGarden.defaultFiles {
                try TestGarden.write(text, to: folder.appendingPathComponent(path))
            }
            let registry = SiteRegistry(
                sites: [
                    SiteEntry(host: "portal.kp", zone: .intranet),
                    SiteEntry(host: "alpha.kp", zone: .intranet),
                    SiteEntry(host: "outside.example", zone: .internet),
                ],
                portalHost: "portal.kp"
            )
            var logger = Logger(label: "planner")
            logger.logLevel = .critical
            let library = try SiteLibrary(root: folder.path, folders: registry.sites.map(\.folder), logger: logger)
            let text = ExchangePlannerTests.policyText.replacingOccurrences(
                of: "default_class: citizen\n", with: "default_class: citizen\n" + (explainBlocks ? "teaching:\n  explain_blocks: true\n" : "")
            )
            let policy = try Policy.parse(.init(file: "policy.yaml", text: text))
            store = PolicyStore(policy, pages: .builtIn(portalHost: "portal.kp"), registry: registry)
            sites = LoopLocalSites(library: library, policies: store, eventLoop: EmbeddedEventLoop())
            itself.addListener(port: 8080)
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        func planner(persona: String? = nil, wayOut: UpstreamSettings? = nil, remembered: CredentialChecker.Verdict? = nil) -> ExchangePlanner {
            let planner = ExchangePlanner(
                persona: persona, tunnelPorts: [80, 443], wayOut: wayOut, itself: itself, rememberedVerdict: { _, _ in remembered }
            )
            planner.connected(client: [127, 0, 0, 1], local: [127, 0, 0, 1], localPort: 8080)
            return planner
        }
    }

    /// The request head of `text` ("GET / HTTP/1.1", then fields), as the parser reads it.
    static func head(_ text: String) throws -> RequestHead {
        let bytes = Array((text + "\r\n\r\n").utf8)
        let parser = RequestHeadParser(maxURIBytes: 8192, maxHeaderBytes: 16384)
        guard case .head(let head, _) = bytes.withUnsafeBytes({ parser.parse($0, scanFrom: 0) }) else {
            throw PlannerTestError(message: "not a request head: \(text)")
        }
        return head
    }

    struct PlannerTestError: Error { var message: String }

    /// The plan's answer in a few words, for the tables.
    static func words(_ plan: ExchangePlan) -> String {
        switch plan.answer {
        case .refuse(let status, _, _): "refuse \(status.code)"
        case .proxyAutoConfig: "proxy.pac"
        case .authorityCertificate: "garden-ca.pem"
        case .lab(let query): "lab \(query)"
        case .signIn(let step, let session): "sign-in \(step)" + (session.map { " as \($0.student)" } ?? "")
        case .checkPassword(let credentials, _): "check \(credentials.name)"
        case .challenge(let problem, _): "challenge" + (problem.map { ": \($0)" } ?? "")
        case .censor: "censor \(plan.decision?.action.name ?? "?") by \(plan.decision?.ruleID ?? "?")"
        case .tunnel: "tunnel"
        case .siteTunnel: "site tunnel"
        case .fetch: "fetch"
        case .unknownHost: "unknown host"
        case .file(let file): "file \(file.contentType.split(separator: ";")[0])"
        case .rewrittenFile: "rewritten"
        case .moved(let location): "moved to \(location)"
        case .missing(let page): page == nil ? "missing" : "the site's 404"
        }
    }

    @Test(arguments: [
        // Routing: by Host, by absolute URL, the portal for an address, folders and 404s.
        ("GET / HTTP/1.1\r\nHost: alpha.kp", "file text/html", false),
        ("GET http://alpha.kp/style.css HTTP/1.1\r\nHost: alpha.kp", "file text/css", false),
        // At the garden's own address, the gateway form: the portal's pages, and any site's
        // under /site/HOST/, HTML served with its addresses in that form.
        ("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080", "rewritten", false),
        ("GET /site/alpha.kp/ HTTP/1.1\r\nHost: 127.0.0.1:8080", "rewritten", false),
        ("GET /site/alpha.kp/style.css HTTP/1.1\r\nHost: localhost:8080", "file text/css", false),
        ("GET /site/alpha.kp HTTP/1.1\r\nHost: 127.0.0.1:8080", "moved to /site/alpha.kp/", false),
        ("GET /site/alpha.kp/docs HTTP/1.1\r\nHost: 127.0.0.1:8080", "moved to /site/alpha.kp/docs/", false),
        ("GET /site/ HTTP/1.1\r\nHost: 127.0.0.1:8080", "moved to /", false),
        ("GET /docs HTTP/1.1\r\nHost: alpha.kp", "moved to /docs/", false),
        ("GET /nothing.html HTTP/1.1\r\nHost: alpha.kp", "the site's 404", false),
        ("GET /nothing.html HTTP/1.1\r\nHost: portal.kp", "missing", false),
        ("GET http://nowhere.kp/ HTTP/1.1\r\nHost: nowhere.kp", "unknown host", false),
        ("GET /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:8080", "proxy.pac", false),
        ("GET /garden-ca.pem HTTP/1.1\r\nHost: 127.0.0.1:8080", "garden-ca.pem", false),
        // Refusals, and which of them end the connection.
        ("GET / HTTP/1.1\r\nHost: alpha.kp\r\nHost: portal.kp", "refuse 400", true),
        ("GET / HTTP/1.1", "refuse 400", true),
        ("GET https://alpha.kp/ HTTP/1.1\r\nHost: alpha.kp", "refuse 400", false),
        ("POST / HTTP/1.1\r\nHost: alpha.kp\r\nContent-Length: 2", "refuse 405", true),
        ("DELETE / HTTP/1.1\r\nHost: alpha.kp", "refuse 405", false),
        ("GET / HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close", "file text/html", true),
        ("GET / HTTP/1.0", "rewritten", true),  // no Host: the garden's own address
        // Tunnels: only to the allowed ports; allowed, a simulated site has no way in.
        ("CONNECT alpha.kp:22 HTTP/1.1\r\nHost: alpha.kp:22", "refuse 403", true),
        ("CONNECT alpha.kp:443 HTTP/1.1\r\nHost: alpha.kp:443", "site tunnel", true),
        // The censor, for a citizen (the default class).
        ("GET /block/x HTTP/1.1\r\nHost: alpha.kp", "censor block by blocked", false),
        ("GET http://outside.example/ HTTP/1.1\r\nHost: outside.example", "censor notfound by no-outside", false),
        ("GET /docs/guide.html HTTP/1.1\r\nHost: alpha.kp", "rewritten", false),
    ])
    func aCitizensRequestGetsItsPlan(request: String, answer: String, closing: Bool) throws {
        let world = try World()
        let plan = world.planner().plan(try Self.head(request), sites: world.sites, policy: world.sites.policy, now: 0)
        #expect(Self.words(plan) == answer, "\(request)")
        #expect(plan.closing == closing, "\(request)")
    }

    /// Who the visitor is: the listener's persona, an account (checked by scrypt first,
    /// unless remembered), or the default class; and what each one's decision is.
    @Test(arguments: [
        (nil, nil, nil, "censor block by blocked", "citizen"),
        // (No such file: the officials pass the censor and meet the site's own 404.)
        ("official", nil, nil, "the site's 404", "official"),
        (nil, "kim:kim", nil, "check kim", nil),
        (nil, "kim:kim", CredentialChecker.Verdict.signedIn(account: "kim"), "the site's 404", "official"),
        (nil, "kim:wrong", CredentialChecker.Verdict.rejected, "challenge: wrong name or password", nil),
        (nil, "kim:kim", CredentialChecker.Verdict.busy, "refuse 503", nil),
    ] as [(String?, String?, CredentialChecker.Verdict?, String, String?)])
    func theVisitorIsClassedBeforeTheCensorDecides(
        persona: String?, credentials: String?, verdict: CredentialChecker.Verdict?, answer: String, visitorClass: String?
    ) throws {
        let world = try World()
        var request = "GET /block/x HTTP/1.1\r\nHost: alpha.kp"
        if let credentials { request += "\r\nAuthorization: Basic \(Data(credentials.utf8).base64EncodedString())" }
        let plan = world.planner(persona: persona).plan(try Self.head(request), sites: world.sites, policy: world.sites.policy, checkedCredentials: verdict, now: 0)
        #expect(Self.words(plan) == answer)
        #expect(plan.visitorClass == visitorClass)
        #expect(plan.account == (visitorClass == "official" && persona == nil ? "kim" : nil))
    }

    /// With a way out: an allowed foreign page is fetched and an allowed tunnel opened for
    /// the classes let out; the garden's own address is still its portal, never fetched.
    @Test(arguments: [
        ("official", "GET http://example.com/ HTTP/1.1\r\nHost: example.com", "fetch"),
        ("official", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443", "tunnel"),
        ("official", "GET http://127.0.0.1:8080/ HTTP/1.1\r\nHost: 127.0.0.1:8080", "file text/html"),
        ("official", "GET http://localhost:8080/ HTTP/1.1\r\nHost: localhost:8080", "file text/html"),
        ("official", "GET http://127.0.0.1:9999/ HTTP/1.1\r\nHost: 127.0.0.1:9999", "fetch"),
        ("citizen", "GET http://example.com/ HTTP/1.1\r\nHost: example.com", "unknown host"),
        ("citizen", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443", "refuse 502"),
    ])
    func theWayOutIsForTheClassesItLetsOut(persona: String, request: String, answer: String) throws {
        let world = try World()
        var wayOut = UpstreamSettings()
        wayOut.mode = .direct
        wayOut.classes = ["official"]
        let plan = world.planner(persona: persona, wayOut: wayOut).plan(try Self.head(request), sites: world.sites, policy: world.sites.policy, now: 0)
        #expect(Self.words(plan) == answer, "\(request)")
    }

    /// The plan carries what the audit event and the answer's pacing need.
    @Test func thePlanCarriesTheDecisionItsEffectsAndTheTeachingHeader() throws {
        let world = try World(explainBlocks: true)
        let planner = world.planner()
        let slow = planner.plan(try Self.head("GET /page.html HTTP/1.1\r\nHost: alpha.kp"), sites: world.sites, policy: world.sites.policy, now: 0)
        // An effects-only rule paces the answer; the action is the default's.
        #expect(slow.throttle?.bytesPerSecond == 32 * 1024)
        #expect(slow.decision?.ruleID == "default" && slow.decision?.action == .allow)
        #expect(slow.target?.host.name == "alpha.kp" && slow.zone == .intranet)
        #expect(slow.teachingHeader == "X-Garden-Rule: default\r\n")

        let blocked = planner.plan(try Self.head("GET /block/x HTTP/1.1\r\nHost: alpha.kp"), sites: world.sites, policy: world.sites.policy, now: 0)
        guard case .censor(let note) = blocked.answer else {
            Issue.record("\(Self.words(blocked))")
            return
        }
        #expect(note?.rule == "blocked" && note?.reason == "Blocked." && note?.visitorClass == "citizen")
        // Nothing is decided for a request that could not be read.
        let unread = planner.plan(try Self.head("GET / HTTP/1.1"), sites: world.sites, policy: world.sites.policy, now: 0)
        #expect(unread.decision == nil && unread.target == nil && unread.visitorClass == nil)
    }

    /// A censor's page rendered while a reload happens is the new template's: the cache
    /// renders from the pages it has just taken, so an old page cannot be kept under the
    /// new policy (a watcher test caught the old template served after a reload).
    @Test func aPageRenderedAcrossAReloadIsTheNewTemplates() throws {
        let world = try World()
        let old = world.sites.renderedPage("unknown nowhere.kp") { $0.unknownHost("nowhere.kp") }
        #expect(!String(buffer: old).contains("GONE"))
        let pages = try GardenPages(portalHost: "portal.kp", templates: [
            "notfound": .init(file: "templates/notfound.mustache", text: "{{<layout}}{{$body}}<p>GONE: {{host}}</p>{{/body}}{{/layout}}"),
        ])
        world.store.replace(with: world.sites.policy, pages: pages)
        let new = world.sites.renderedPage("unknown nowhere.kp") { $0.unknownHost("nowhere.kp") }
        #expect(String(buffer: new).contains("<p>GONE: nowhere.kp</p>"))
    }
}
