import Foundation
import GardenPolicy
import GardenServer
import GardenSites
import Logging
import NIOCore
import Testing

/// The shipped `Config/` and `Sites/`, served for real and crawled: every link a student
/// can click must lead somewhere, and no page may load anything from outside its site.
@Suite(.stopsWhatItStarts) struct ShippedSitesTests {
    static let repository = Shipped.repository

    /// The shipped garden on an ephemeral port, shared by this suite's tests.
    static let garden = Task { () throws -> (server: GardenServer, port: Int, config: GardenConfig) in
        var config = try ConfigDirectory(path: Shipped.root.appendingPathComponent("Config").path).load()
        // The crawl walks every site, outside ones included: as a visitor nothing filters.
        config.listeners = [.init(address: ListenAddress(host: "127.0.0.1", port: 0), persona: "soldier_abroad")]
        var logger = Logger(label: "shipped")
        logger.logLevel = .critical
        let library = try SiteLibrary(
            root: Shipped.root.appendingPathComponent("Sites").path,
            folders: config.sites.sites.map(\.folder), logger: logger
        )
        let server = GardenServer(config: config, library: library, logger: logger)
        let port = try await server.start().first?.port ?? 0
        return (server, port, config)
    }

    static func fetch(host: String, path: String, port: Int) async throws -> RawResponse {
        try await RawConnection.exchange(
            port: port,
            // Signed in as the shipped demo account, which may also enter the officials' office.
            send: Array(("GET http://\(host)\(path) HTTP/1.1\r\nHost: \(host)\r\n"
                + "Proxy-Authorization: Basic \(Data("inspector:kwangmyong".utf8).base64EncodedString())\r\nConnection: close\r\n\r\n").utf8),
            // The first request checks the password with scrypt (cost 2^16), which in a
            // debug build on a loaded machine has taken over 5 s; later ones are remembered.
            timeout: 30
        )
    }

    /// `href="..."` and `src="..."` values of a page.
    static func links(in html: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"(?:href|src|action)="([^"]*)""#)
        let range = NSRange(html.startIndex..., in: html)
        return pattern.matches(in: html, range: range).compactMap { match in
            Range(match.range(at: 1), in: html).map { String(html[$0]) }
        }
    }

    /// Resolves a link found on `host` at `page` into (host, path), or nil for non-http links.
    static func resolve(_ link: String, host: String, page: String) -> (host: String, path: String)? {
        var link = link
        if let hash = link.firstIndex(of: "#") { link = String(link[..<hash]) }
        if link.isEmpty { return nil }
        if link.hasPrefix("http://") {
            let rest = link.dropFirst(7)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let path = String(rest[slash...])
            return (String(rest[..<slash]), path.isEmpty ? "/" : path)
        }
        if link.contains(":") { return nil }
        if link.hasPrefix("/") { return (host, link) }
        let base = page.hasSuffix("/") ? page : String(page[...page.lastIndex(of: "/")!])
        return (host, base + link)
    }

    @Test func shippedConfigListsTheScenarioSites() async throws {
        let (_, _, config) = try await Self.garden.value
        let hosts = Set(config.sites.sites.map(\.host))
        #expect(hosts.isSuperset(of: ["kwangmyong.kp", "friend.com.kp", "cooks.org.kp", "achim.news.kp"]))
        #expect(config.sites.sites.filter { $0.zone == .internet }.count >= 2)
        #expect(config.policy.classes.keys.sorted() == ["citizen", "foreigner", "official", "soldier_abroad"])
    }

    /// Crawls from every site's home page, following links within the garden.
    @Test func everyLinkResolves() async throws {
        let (_, port, config) = try await Self.garden.value
        let known = Set(config.sites.sites.map(\.host))
        var queue = config.sites.sites.map { ($0.host, "/") }
        var seen = Set(queue.map { "\($0.0)\($0.1)" })
        var broken: [String] = []
        var pages = 0
        var outsideLinksFromIntranet = 0
        while let (host, path) = queue.popLast() {
            let response = try await Self.fetch(host: host, path: path, port: port)
            guard response.status == 200 else {
                broken.append("http://\(host)\(path) → \(response.status)")
                continue
            }
            guard response.header("Content-Type")?.hasPrefix("text/html") == true else { continue }
            pages += 1
            let html = response.bodyText
            #expect(html.contains("classroom simulation"), "http://\(host)\(path) lacks the simulation footer")
            let zone = config.sites.site(named: host)?.zone
            for link in Self.links(in: html) {
                guard let (linkHost, linkPath) = Self.resolve(link, host: host, page: path) else { continue }
                // The portal's sign-in form is the garden's page (SignInTests), not the site's.
                if linkHost == config.sites.portalHost, linkPath == "/sign-in" { continue }
                guard known.contains(linkHost) else {
                    broken.append("http://\(host)\(path) links to unknown host \(linkHost)")
                    continue
                }
                if zone == .intranet, config.sites.site(named: linkHost)?.zone == .internet { outsideLinksFromIntranet += 1 }
                let key = "\(linkHost)\(linkPath.split(separator: "?").first ?? "")"
                if seen.insert(key).inserted { queue.append((linkHost, linkPath)) }
            }
        }
        #expect(broken.isEmpty, "\(broken.joined(separator: "\n"))")
        // Every page on disk (but the 404 pages) is reachable by clicking: no orphans.
        let enumerator = FileManager.default.enumerator(at: Shipped.root.appendingPathComponent("Sites"), includingPropertiesForKeys: nil)!
        let onDisk = enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "html" && $0.lastPathComponent != "404.html" }
        #expect(pages == onDisk.count)
        #expect(pages >= 50)
        #expect(outsideLinksFromIntranet >= 3, "intranet pages should link outside, for link neutralisation to show")
    }

    /// Styles, images and scripts come from the page's own site: the CSP forbids the rest,
    /// and the classroom may have no internet at all.
    @Test func pagesLoadNothingFromOutsideTheirSite() throws {
        let sites = Shipped.root.appendingPathComponent("Sites")
        let enumerator = FileManager.default.enumerator(at: sites, includingPropertiesForKeys: nil)!
        var offenders: [String] = []
        let embed = try NSRegularExpression(pattern: #"<(?:img|script|link|iframe|source|video|audio)\b[^>]*(?:src|href)="(https?:)?//"#)
        let inline = try NSRegularExpression(pattern: #"<script\b|<style\b|\sstyle="|\son[a-z]+=""#)
        for case let file as URL in enumerator where file.pathExtension == "html" || file.pathExtension == "css" {
            let text = try String(contentsOf: file, encoding: .utf8)
            let range = NSRange(text.startIndex..., in: text)
            if embed.firstMatch(in: text, range: range) != nil { offenders.append("\(file.lastPathComponent): outside resource") }
            if inline.firstMatch(in: text, range: range) != nil { offenders.append("\(file.lastPathComponent): inline script or style (blocked by the CSP)") }
            if file.pathExtension == "css", text.contains("url(http") || text.contains("@import") {
                offenders.append("\(file.lastPathComponent): outside resource in CSS")
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test(arguments: ["friend.com.kp", "cooks.org.kp", "achim.news.kp"])
    func intranetSitesAreBigEnough(host: String) throws {
        let folder = Shipped.root.appendingPathComponent("Sites/\(host)")
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)!
        let pages = enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "html" && $0.lastPathComponent != "404.html" }
        #expect(pages.count >= 8)
    }
}
