import Foundation
import GardenPolicy
@testable import GardenServer
@testable import GardenTeaching
import Testing

/// `lint-sites`: outside resources, unknown hosts and broken links are errors with their
/// line; the parser's complaints are warnings; the shipped sites are clean.
@Suite(.stopsWhatItStarts) struct SiteLintTests {
    static func lint(_ files: [String: String]) throws -> SiteLint {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for (path, text) in files {
            try TestGarden.write(text, to: root.appendingPathComponent(path))
        }
        let registry = SiteRegistry(
            sites: [SiteEntry(host: "a.kp", zone: .intranet), SiteEntry(host: "b.kp", zone: .intranet)], portalHost: "a.kp"
        )
        return SiteLint.run(registry: registry, sitesDirectory: root.path)
    }

    @Test func everyKindOfMistakeIsFoundAtItsLine() throws {
        let page = """
        <!DOCTYPE html>
        <html><head><link rel="stylesheet" href="http://cdn.example/x.css">
        <link rel="canonical" href="http://elsewhere.example/">
        </head><body>
        <img src="http://b.kp/logo.svg">
        <a href="http://nowhere.example/">gone</a>
        <a href="/missing.html">missing</a> <a href="../docs/./guide.html">fine</a>
        <a href="http://b.kp/there.html">fine</a> <a href="http://b.kp/not-there.html">broken</a>
        <a href="mailto:x@a.kp">mail</a> <a href="#top">top</a> <img src="data:image/png;base64,AA==">
        <div style="background:url(//cdn.example/bg.png)">x</div>
        <p><b>unclosed</i></p>
        </body></html>
        """
        let lint = try Self.lint([
            "a.kp/sub/index.html": page, "a.kp/docs/guide.html": "<p>guide</p>", "b.kp/there.html": "<p>there</p>",
        ])
        let folderless = lint.errors.map { $0.components(separatedBy: "/a.kp/").last ?? $0 }
        #expect(folderless == [
            "sub/index.html:2: <link href=\"http://cdn.example/x.css\"> loads from outside the garden; every site must be self-contained",
            "sub/index.html:5: <img src=\"http://b.kp/logo.svg\"> loads from another site (b.kp); the sites' CSP allows only their own files",
            "sub/index.html:6: <a href=\"http://nowhere.example/\"> leads to a host the garden does not have (add it to sites.yaml or remove the link)",
            "sub/index.html:7: <a href=\"/missing.html\"> leads to a page that does not exist",
            "sub/index.html:8: <a href=\"http://b.kp/not-there.html\"> leads to a page that does not exist",
            "sub/index.html:10: <div style=\"//cdn.example/bg.png\"> loads from outside the garden; every site must be self-contained",
        ])
        #expect(lint.warnings.contains { $0.hasSuffix("/a.kp/sub/index.html:11: HTML: Unexpected end tag : i") }, "\(lint.warnings)")
        #expect(!lint.passed)
        #expect(lint.pagesChecked == 3)
    }

    @Test(arguments: [
        ("page.html", "docs/index.html"), ("../x.html", "a/b/c.html"), ("./", "a/b.html"), ("/abs/x.html", "a/b.html"),
        ("?q=1", "a/b.html"), ("..", "a/b/c.html"),
    ])
    func relativeAddressesResolveAsBrowsersDo(address: String, page: String) {
        let expected = [
            "page.html": "/docs/page.html", "../x.html": "/a/x.html", "./": "/a/", "/abs/x.html": "/abs/x.html",
            "?q=1": "/a/b.html", "..": "/a/",
        ][address]
        #expect(SiteLint.resolve(address, against: page) == expected)
    }

    @Test func theShippedSitesAreClean() throws {
        let config = try ConfigDirectory(path: Shipped.root.appendingPathComponent("Config").path).load()
        let lint = SiteLint.run(registry: config.sites, sitesDirectory: Shipped.root.appendingPathComponent("Sites").path)
        #expect(lint.errors.isEmpty, "\(lint.errors.joined(separator: "\n"))")
        #expect(lint.warnings.isEmpty, "\(lint.warnings.joined(separator: "\n"))")
        #expect(lint.pagesChecked >= 60)
    }
}
