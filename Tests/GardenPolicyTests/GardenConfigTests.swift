import Foundation
import GardenPolicy
import Testing

/// Reading `garden.yaml` and `sites.yaml`: good files parse, and every mistake is
/// reported at its `file:line:column` with a message a teacher can act on.
@Suite struct GardenConfigTests {
    static let goodGarden = """
    listeners:
      - address: 127.0.0.1:8080
      - 127.0.0.1:8081
    portal: portal.kp
    limits:
      max_uri: 4KiB
      request_timeout: 2s
      idle_timeout: 500ms
      max_connections: 10
    """

    static let goodSites = """
    sites:
      portal.kp:
        zone: intranet
        title: The portal
      friend.com.kp:
        zone: intranet
        aliases: [www.friend.com.kp]
        folder: friend
      news.example:
        zone: internet
    """

    static func parse(garden: String = goodGarden, sites: String = goodSites) throws(ConfigErrors) -> GardenConfig {
        try GardenConfig.parse(
            garden: .init(file: "Config/garden.yaml", text: garden),
            sites: .init(file: "Config/sites.yaml", text: sites)
        )
    }

    @Test func goodFilesParse() throws {
        let config = try Self.parse()
        #expect(config.listeners.map(\.address.description) == ["127.0.0.1:8080", "127.0.0.1:8081"])
        #expect(config.sites.portalHost == "portal.kp")
        #expect(config.sites.sites.map(\.host) == ["portal.kp", "friend.com.kp", "news.example"])
        #expect(config.sites.site(named: "www.friend.com.kp")?.folder == "friend")
        #expect(config.sites.site(named: "news.example")?.zone == .internet)
        #expect(config.sites.site(named: "portal.kp")?.title == "The portal")
        #expect(config.limits.maxURIBytes == 4096)
        #expect(config.limits.requestTimeout == .seconds(2))
        #expect(config.limits.idleTimeout == .milliseconds(500))
        #expect(config.limits.maxConnections == 10)
        #expect(config.limits.maxHeaderBytes == ServerLimits().maxHeaderBytes)
        #expect(config.auditLog == nil)
    }

    @Test func theAuditLogIsConfigured() throws {
        let config = try Self.parse(garden: Self.goodGarden + "\nlog:\n  path: logs/audit.log\n  format: combined\n  max_size: 1MiB\n  keep: 2")
        var expected = AuditLogSettings(path: "logs/audit.log")
        expected.format = .combined
        expected.maxBytes = 1 << 20
        expected.keep = 2
        #expect(config.auditLog == expected)
    }

    /// A config with one mistake, and the diagnostic it must produce.
    struct Mistake: Sendable, CustomTestStringConvertible {
        var garden: String
        var sites: String
        var expected: String
        var testDescription: String { expected }
    }

    static let mistakes: [Mistake] = [
        Mistake(garden: goodGarden.replacingOccurrences(of: "portal: portal.kp", with: "portal: portl.kp"), sites: goodSites,
         expected: "Config/garden.yaml:4:9: portal 'portl.kp' is not a site in Config/sites.yaml (did you mean 'portal.kp'?)"),
        Mistake(garden: goodGarden.replacingOccurrences(of: "limits:", with: "limit:"), sites: goodSites,
         expected: "Config/garden.yaml:5:1: unknown key 'limit' in garden.yaml (did you mean 'limits'?); known keys: 'listeners', 'portal', 'limits', 'teacher', 'log', 'tunnels', 'upstream', 'lab'"),
        Mistake(garden: goodGarden.replacingOccurrences(of: "127.0.0.1:8081", with: "127.0.0.1:99999"), sites: goodSites,
         expected: "Config/garden.yaml:3:5: '127.0.0.1:99999' is not a listen address; write it as 127.0.0.1:8080 or [::1]:8080"),
        Mistake(garden: goodGarden.replacingOccurrences(of: "request_timeout: 2s", with: "request_timeout: soon"), sites: goodSites,
         expected: "Config/garden.yaml:7:20: request_timeout must be a duration such as 500ms, 10s or 2m, not 'soon'"),
        Mistake(garden: goodGarden.replacingOccurrences(of: "max_connections: 10", with: "max_connections: 0"), sites: goodSites,
         expected: "Config/garden.yaml:9:20: max_connections must be between 1 and 1000000, not 0"),
        Mistake(garden: goodGarden.replacingOccurrences(of: "max_uri: 4KiB", with: "max_uri: lots"), sites: goodSites,
         expected: "Config/garden.yaml:6:12: max_uri must be a size such as 8192, 16KiB or 1MiB, not 'lots'"),
        Mistake(garden: "portal: portal.kp", sites: goodSites,
         expected: "Config/garden.yaml:1:1: garden.yaml needs 'listeners'"),
        Mistake(garden: "listeners: [127.0.0.1:8080\nportal: x", sites: goodSites,
         expected: "Config/garden.yaml:2:7: YAML syntax error: while parsing a flow sequence, did not find expected ',' or ']'"),
        Mistake(garden: goodGarden, sites: goodSites.replacingOccurrences(of: "zone: internet", with: "zone: internett"),
         expected: "Config/sites.yaml:10:11: unknown zone 'internett' (did you mean 'internet'?); zones are 'intranet' and 'internet'"),
        Mistake(garden: goodGarden, sites: goodSites.replacingOccurrences(of: "title: The portal", with: "titel: The portal"),
         expected: "Config/sites.yaml:4:5: unknown key 'titel' in site 'portal.kp' (did you mean 'title'?); known keys: 'title', 'zone', 'aliases', 'folder'"),
        Mistake(garden: goodGarden, sites: goodSites.replacingOccurrences(of: "folder: friend", with: "folder: ../../etc"),
         expected: "Config/sites.yaml:8:13: folder '../../etc' must be a folder name inside the sites directory (no '/', '\\', '..' or leading '.')"),
        Mistake(garden: goodGarden, sites: goodSites.replacingOccurrences(of: "[www.friend.com.kp]", with: "[portal.kp]"),
         expected: "Config/sites.yaml:7:15: 'portal.kp' is already the name of site 'portal.kp'"),
        Mistake(garden: goodGarden, sites: goodSites.replacingOccurrences(of: "news.example:", with: "http://news.example/:"),
         expected: "Config/sites.yaml:9:3: 'http://news.example/' is not a host name (write it like friend.com.kp, without scheme, port or path)"),
        Mistake(garden: goodGarden, sites: goodSites.replacingOccurrences(of: "news.example:", with: "news.localhost:"),
         expected: "Config/sites.yaml:9:3: 'news.localhost' is reserved: NAME.localhost already reaches the site NAME"),
        Mistake(garden: goodGarden, sites: goodSites.replacingOccurrences(of: "    zone: internet", with: "    title: no zone"),
         expected: "Config/sites.yaml:10:5: site 'news.example' needs 'zone'"),
        Mistake(garden: goodGarden + "\nlog:\n  path: audit.jsonl\n  format: jsonl", sites: goodSites,
         expected: "Config/garden.yaml:12:11: unknown log format 'jsonl' (did you mean 'json'?); formats are 'json' and 'combined'"),
        Mistake(garden: goodGarden + "\nlog:\n  path: audit.jsonl\n  max_size: 10", sites: goodSites,
         expected: "Config/garden.yaml:12:13: max_size must be between 4096 and 1099511627776 bytes, not 10"),
        Mistake(garden: goodGarden + "\nlog:\n  format: json", sites: goodSites,
         expected: "Config/garden.yaml:11:3: log needs 'path'"),
        Mistake(garden: goodGarden, sites: "sites: []",
         expected: "Config/sites.yaml:1:8: sites must be a mapping (name: settings), not a list"),
    ]

    @Test(arguments: mistakes)
    func mistakesArePinpointed(mistake: Mistake) {
        do {
            _ = try Self.parse(garden: mistake.garden, sites: mistake.sites)
            Issue.record("no error for \(mistake.expected)")
        } catch {
            #expect(error.diagnostics.map(\.description).contains(mistake.expected), "\(error.diagnostics)")
        }
    }

    @Test func everyMistakeIsReportedInOneRun() {
        let garden = Self.goodGarden
            .replacingOccurrences(of: "limits:", with: "limitz:")
            .replacingOccurrences(of: "portal: portal.kp", with: "portal: nowhere.kp")
        let sites = Self.goodSites.replacingOccurrences(of: "zone: intranet\n    title", with: "zone: moon\n    title")
        do {
            _ = try Self.parse(garden: garden, sites: sites)
            Issue.record("expected errors")
        } catch {
            #expect(error.diagnostics.count == 3, "\(error.diagnostics)")
            #expect(error.description.split(separator: "\n").count == 3)
        }
    }

    @Test func emptyFilesSayWhatIsMissing() {
        do {
            _ = try Self.parse(garden: "", sites: "")
            Issue.record("expected errors")
        } catch {
            let messages = error.diagnostics.map(\.message)
            #expect(messages.contains("sites.yaml needs 'sites'"))
            #expect(messages.contains("garden.yaml needs 'listeners'"))
            #expect(messages.contains("garden.yaml needs 'portal'"))
        }
    }

    /// The desk is on unless garden.yaml turns it off; a password there must be a hash
    /// (without one, the garden keeps it in Config/desk-password: ConfigDirectory reads it).
    @Test func theTeachersDeskIsOnUnlessTurnedOff() throws {
        let sites = GardenConfig.Source(file: "sites.yaml", text: "sites:\n  a.kp: {zone: intranet}\n")
        let hash = "$scrypt$ln=10,r=8,p=1$IUV53XuR2WTOh8EYo2/mcQ$GZj3UuGPtdZ8GWV61eK1YCLanLdEKgy/NX2BlRM8piw"
        func garden(_ teacher: String) -> GardenConfig.Source {
            .init(file: "garden.yaml", text: "listeners: [127.0.0.1:8080]\nportal: a.kp\n" + teacher)
        }
        let unsaid = try GardenConfig.parse(garden: garden(""), sites: sites)
        #expect(unsaid.teacher == .standard)
        #expect(unsaid.teacher?.address.description == "127.0.0.1:9090")
        #expect(unsaid.teacher?.passwordHash == nil)
        #expect(try GardenConfig.parse(garden: garden("teacher: off\n"), sites: sites).teacher == nil)
        #expect(try GardenConfig.parse(garden: garden("teacher: on\n"), sites: sites).teacher == .standard)
        let on = try GardenConfig.parse(garden: garden("teacher: {listen: 127.0.0.1:9191, password: \"\(hash)\"}\n"), sites: sites)
        #expect(on.teacher?.address.port == 9191)
        #expect(on.teacher?.passwordHash?.verify(Array("teacher".utf8)) == true)
        let moved = try GardenConfig.parse(garden: garden("teacher: {listen: 127.0.0.1:9191}\n"), sites: sites)
        #expect(moved.teacher?.address.port == 9191)
        #expect(moved.teacher?.passwordHash == nil)
        #expect(throws: ConfigErrors.self) { try GardenConfig.parse(garden: garden("teacher: {password: teacher}\n"), sites: sites) }
        #expect(throws: ConfigErrors.self) { try GardenConfig.parse(garden: garden("teacher: maybe\n"), sites: sites) }
    }
}
