import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenRewrite
import GardenServer
import GardenSites
import Logging
import NIOCore
import Testing

/// The teaching tools plan with the data plane's own planner (`VisitPlanner`), so what
/// `explain`, `reveal`, `check` and `replay` say is what the garden does. Checked against
/// a real garden on the shipped Config/ and Sites/: for each request, the tool's plan
/// and the garden's answer over a socket name the same rule, action and status.
@Suite(.stopsWhatItStarts) struct VisitPlannerTests {
    /// The shipped garden, a listener per persona.
    final class ShippedGarden: Sendable {
        let config: GardenConfig
        let server: GardenServer
        let ports: [String: Int]

        init(lab: Bool = true) async throws {
            var config = try ConfigDirectory(path: Shipped.config.path).load()
            config.lab = lab
            let personas = ["citizen", "official", "foreigner", "soldier_abroad"]
            config.listeners = personas.map { .init(address: ListenAddress("127.0.0.1:0")!, persona: $0) }
            var logger = Logger(label: "visit-planner")
            logger.logLevel = .critical
            let library = try SiteLibrary(root: Shipped.sites.path, folders: config.sites.sites.map(\.folder), logger: logger)
            server = GardenServer(config: config, library: library, logger: logger)
            let bound = try await server.start().map { $0.port ?? 0 }
            ports = Dictionary(uniqueKeysWithValues: zip(personas, bound))
            config.listeners = zip(personas, bound).map { .init(address: ListenAddress(host: "127.0.0.1", port: $1), persona: $0) }
            self.config = config
        }
    }

    /// The status a planned outcome is answered with, where it does not depend on the
    /// censor's style (nil for the censor's own answers, whose status the event gives).
    static func status(of outcome: PlannedVisit.Outcome) -> Int? {
        switch outcome {
        case .refused(let status, _): status
        case .challenged: 407
        case .page, .rewrittenPage, .proxyAutoConfig: 200
        case .moved: 301
        case .missing, .noSuchAddress: 404
        case .censored, .tunnel, .siteTunnel, .fetched: nil
        }
    }

    @Test(arguments: [
        ("GET", "http://kwangmyong.kp/", "citizen"),
        ("GET", "http://friend.com.kp/", "citizen"),
        ("GET", "http://friend.com.kp/", "official"),
        ("GET", "http://friend.com.kp/no-such-page.html", "citizen"),
        ("GET", "http://worldnews.example/", "citizen"),
        ("GET", "http://worldnews.example/", "official"),
        ("GET", "http://worldnews.example/", "foreigner"),
        ("GET", "http://encyclopedia.example/wiki/internet.html", "official"),
        ("GET", "http://cooks.org.kp/recipes/naengmyeon.html", "foreigner"),
        ("GET", "http://kwangmyong.kp/office/", "citizen"),
        ("GET", "http://no-such-host.example/", "official"),
        ("GET", "http://127.0.0.1:1/", "official"),
        ("POST", "http://kwangmyong.kp/", "official"),
        ("GET", "https://worldnews.example/", "official"),
    ])
    func aToolsPlanIsWhatTheGardenDoes(method: String, url: String, persona: String) async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let now = Int64(Date().timeIntervalSince1970)
        let planner = VisitPlanner(sites: SiteFolders(config: garden.config, directory: Shipped.sites.path))
        let planned = try planner.plan(Visit(url: url, method: method, persona: persona, time: now))

        let body = method == "POST" ? "Content-Length: 0\r\n" : ""
        let answer = try await RawConnection.exchange(
            port: try #require(garden.ports[persona]),
            send: Array("\(method) \(url) HTTP/1.1\r\nHost: x\r\n\(body)Connection: close\r\n\r\n".utf8), timeout: 10
        )
        if let status = Self.status(of: planned.outcome) {
            #expect(answer.status == status, "\(planned.outcome)")
        }
        await garden.server.audit.flush()
        let events = garden.server.audit.feed.subscribe(history: 10).history.map(\.event)
        let event = events.last { $0.url == url }
        #expect(event?.rule == planned.decision?.ruleID)
        #expect(event?.action == planned.decision.map { $0.action.name } ?? event?.action)
        if let event, planned.decision != nil { #expect(event.status == answer.status) }
    }

    /// What a browser cannot send is refused by the tool with the reason.
    @Test(arguments: ["http://friend.com.kp/a b", "friend.com.kp", "http://friend.com.kp/\r\nX-Injected: 1"])
    func anAddressNoRequestCanCarryIsRefused(url: String) throws {
        let config = try ConfigDirectory(path: Shipped.config.path).load()
        let planner = VisitPlanner(sites: SiteFolders(config: config, directory: Shipped.sites.path))
        #expect(throws: VisitPlanner.Unreadable.self) { try planner.plan(Visit(url: url, time: 0)) }
    }

    /// A signed-in account's class wins over the persona, as on the data plane; an account
    /// the policy lacks cannot sign in.
    @Test func anAccountSignsInAsOnTheDataPlane() throws {
        let config = try ConfigDirectory(path: Shipped.config.path).load()
        let account = try #require(config.policy.accounts.first { $0.value.visitorClass == "official" }?.key)
        let planner = VisitPlanner(sites: SiteFolders(config: config, directory: Shipped.sites.path))
        let signedIn = try planner.plan(Visit(url: "http://worldnews.example/", persona: "citizen", account: account, time: 0))
        #expect(signedIn.facts?.visitorClass == "official")
        #expect(signedIn.facts?.account == account)
        let stranger = try planner.plan(Visit(url: "http://worldnews.example/", persona: "citizen", account: "no-such-account", time: 0))
        #expect(stranger.outcome == .challenged(problem: "wrong name or password"))
        #expect(stranger.decision == nil)
    }

    /// `reveal`'s rewritten page is the one the garden serves.
    @Test func theRewrittenPageIsTheOneServed() async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let planner = VisitPlanner(sites: SiteFolders(config: garden.config, directory: Shipped.sites.path))
        let planned = try planner.plan(Visit(url: "http://friend.com.kp/", persona: "citizen", time: Int64(Date().timeIntervalSince1970)))
        #expect(planned.outcome == .rewrittenPage)
        let page = try #require(planned.rewrittenPage())
        let served = try await RawConnection.exchange(
            port: try #require(garden.ports["citizen"]),
            send: Array("GET http://friend.com.kp/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), timeout: 10
        )
        #expect(served.body == page.html)
    }
}
