import Foundation
@testable import GardenAudit
import GardenPolicy
import GardenServer
import Testing

/// The gateway form over real sockets, on the shipped garden: a device with no proxy
/// setting reaches every site at the garden's own address, `/site/HOST/PATH`; the pages'
/// addresses are put in that form, each page shows its real address, and the censor
/// decides as it does for the proxy request of the same address.
@Suite(.stopsWhatItStarts) struct GatewayTests {
    typealias ShippedGarden = VisitPlannerTests.ShippedGarden

    static func get(_ path: String, port: Int, host: String? = nil) async throws -> RawResponse {
        try await RawConnection.exchange(
            port: port, send: Array("GET \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n\r\n".utf8), timeout: 10
        )
    }

    /// The `href`, `src` and `action` values of a page.
    static func addresses(in html: String) -> [String] {
        var found: [String] = []
        for attribute in [" href=\"", " src=\"", " action=\""] {
            var rest = Substring(html)
            while let start = rest.range(of: attribute) {
                rest = rest[start.upperBound...]
                found.append(String(rest.prefix { $0 != "\"" }))
            }
        }
        return found
    }

    @Test func aSitesPageIsServedInTheGatewayForm() async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let port = try #require(garden.ports["citizen"])
        let page = try await Self.get("/site/friend.com.kp/", port: port)
        #expect(page.status == 200)
        let html = page.bodyText
        #expect(html.contains("<p class=\"garden-address\" role=\"note\">http://friend.com.kp/</p>"))
        // Every address leads back into the garden: by path, relative, or a fragment.
        let addresses = Self.addresses(in: html)
        #expect(addresses.count > 10)
        for address in addresses {
            #expect(address.hasPrefix("/site/") || !address.hasPrefix("/") && !address.hasPrefix("http://"), "\(address)")
        }
        #expect(addresses.contains("/site/friend.com.kp/style.css"))
        // The strip's style is allowed by the page's CSP by its hash, nothing more.
        #expect(page.text.lowercased().contains("content-security-policy: default-src 'self';"))
        #expect(page.text.contains("style-src 'self' 'sha256-"))
        // The style sheet it links to is served from the same form.
        #expect(try await Self.get("/site/friend.com.kp/style.css", port: port).status == 200)
    }

    /// Decided as the proxy request for the same address: the same status (and a
    /// redirect's target in the gateway form).
    @Test(arguments: [
        ("friend.com.kp/", "citizen"), ("cooks.org.kp/recipes/naengmyeon.html", "citizen"), ("worldnews.example/", "citizen"),
        ("encyclopedia.example/", "citizen"), ("nowhere.kp/", "citizen"), ("worldnews.example/", "official"),
        ("friend.com.kp/", "foreigner"), ("encyclopedia.example/", "foreigner"), ("friend.com.kp/groups", "citizen"),
    ])
    func theCensorDecidesAsForTheProxy(address: String, persona: String) async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let port = try #require(garden.ports[persona])
        let proxied = try await Self.get("http://\(address)", port: port, host: String(address.prefix { $0 != "/" }))
        let gateway = try await Self.get("/site/\(address)", port: port)
        #expect(gateway.status == proxied.status, "\(address) as \(persona)")
        await garden.server.audit.flush()
        let logged = garden.server.audit.feed.subscribe(history: 10).history.map(\.event).filter { $0.url == "http://\(address)" }
        #expect(logged.count == 2, "both are logged with the real address")
        #expect(Set(logged.map(\.rule)).count == 1, "\(logged.map(\.rule))")
    }

    @Test func redirectsStayInTheGatewayForm() async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let port = try #require(garden.ports["citizen"])
        // The censor's redirect (foreign search → the portal) and a folder's slash.
        let search = try await Self.get("/site/search.example/", port: port)
        #expect(search.status == 302)
        #expect(search.text.contains("\r\nLocation: /site/kwangmyong.kp/"), "\(search.text.prefix(400))")
        let folder = try await Self.get("/site/friend.com.kp/groups", port: port)
        #expect(folder.status == 301)
        #expect(folder.text.contains("\r\nLocation: /site/friend.com.kp/groups/"))
        let bare = try await Self.get("/site/friend.com.kp", port: port)
        #expect(bare.status == 301)
        #expect(bare.text.contains("\r\nLocation: /site/friend.com.kp/"))
    }

    /// The portal at the garden's own address links to the other sites in the gateway form.
    @Test func thePortalAtTheGardensAddressLeadsToEverySite() async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let port = try #require(garden.ports["citizen"])
        let portal = try await Self.get("/", port: port)
        #expect(portal.status == 200)
        let addresses = Self.addresses(in: portal.bodyText)
        #expect(addresses.contains { $0.hasPrefix("/site/friend.com.kp/") })
        #expect(!addresses.contains { $0.hasPrefix("http://") })
        // Not at a site's own name: there the page is as the site has it.
        let byName = try await Self.get("/", port: port, host: "kwangmyong.kp")
        #expect(!byName.bodyText.contains("garden-address"))
    }

    /// The censor's own pages lead back into the garden too.
    @Test func theCensorsPagesAreInTheGatewayForm() async throws {
        let garden = try await ShippedGarden()
        defer { afterTest { await garden.server.shutdown() } }
        let port = try #require(garden.ports["citizen"])
        let unavailable = try await Self.get("/site/worldnews.example/", port: port)
        #expect(unavailable.status == 451)
        #expect(unavailable.text.contains("\r\nLink: </site/kwangmyong.kp/authority.html>; rel=\"blocked-by\""))
        let addresses = Self.addresses(in: unavailable.bodyText)
        #expect(addresses.contains("/site/kwangmyong.kp/authority.html"), "\(addresses)")
        #expect(!addresses.contains { $0.hasPrefix("http://") }, "\(addresses)")
        #expect(unavailable.bodyText.contains("http://worldnews.example/</p>"))
        // Not in the gateway form (a proxy request), the page is as before.
        let proxied = try await Self.get("http://worldnews.example/", port: port, host: "worldnews.example")
        #expect(Self.addresses(in: proxied.bodyText).contains("http://kwangmyong.kp/authority.html"))
        let missing = try await Self.get("/site/nowhere.kp/", port: port)
        #expect(missing.status == 404)
        #expect(!Self.addresses(in: missing.bodyText).contains { $0.hasPrefix("http://") })
    }
}
