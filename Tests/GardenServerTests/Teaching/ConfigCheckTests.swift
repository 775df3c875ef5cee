import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching
import Testing

/// `walled-garden check`: the shipped files pass; broken ones fail with the place to look.
@Suite(.stopsWhatItStarts) struct ConfigCheckTests {
    static let repository = Shipped.repository

    /// A copy of the shipped Config/ and Sites/ to break.
    final class Copy {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        var config: String { root.appendingPathComponent("Config").path }
        var sites: String { root.appendingPathComponent("Sites").path }

        init() throws {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            for name in ["Config", "Sites"] {
                try FileManager.default.copyItem(
                    at: Shipped.root.appendingPathComponent(name), to: root.appendingPathComponent(name)
                )
            }
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        func edit(_ file: String, _ change: (String) -> String) throws {
            let url = root.appendingPathComponent(file)
            try Data(change(try String(contentsOf: url, encoding: .utf8)).utf8).write(to: url)
        }
    }

    /// The shipped configuration, as the server would load it.
    static func loadShippedConfig(repository: URL) throws -> GardenConfig {
        try ConfigDirectory(path: Shipped.root.appendingPathComponent("Config").path).load()
    }

    @Test func shippedFilesPass() {
        let check = ConfigCheck.run(
            configDirectory: Shipped.root.appendingPathComponent("Config").path,
            sitesDirectory: Shipped.root.appendingPathComponent("Sites").path
        )
        #expect(check.passed, "\(check.errors)")
        #expect(check.warnings.isEmpty, "\(check.warnings)")
        #expect(check.summary.count == 5)
        #expect(check.summary.contains { $0.contains("9 page templates") })
        #expect(check.summary.last == "policy tests: all \(check.testResults.count) pass")
        #expect(check.testResults.count >= 10)
        #expect(check.testResults.allSatisfy { $0.hasPrefix("PASS ") })
    }

    @Test func aConfigMistakeFailsWithItsPosition() throws {
        let copy = try Copy()
        try copy.edit("Config/sites.yaml") { $0.replacingOccurrences(of: "zone: intranet", with: "zone: intranett") }
        let check = ConfigCheck.run(configDirectory: copy.config, sitesDirectory: copy.sites)
        #expect(!check.passed)
        #expect(check.errors.first?.contains("sites.yaml:") == true)
        #expect(check.errors.first?.contains("unknown zone 'intranett' (did you mean 'intranet'?)") == true)
    }

    @Test func aPolicyChangeThatBreaksATestFailsTheCheck() throws {
        let copy = try Copy()
        try copy.edit("Config/policy.yaml") { $0.replacingOccurrences(of: "    action: unavailable", with: "    action: block") }
        let check = ConfigCheck.run(configDirectory: copy.config, sitesDirectory: copy.sites)
        #expect(!check.passed)
        #expect(check.errors.isEmpty)
        #expect(check.failedTests == 1)
        let failure = check.testResults.first { $0.hasPrefix("FAIL ") } ?? ""
        #expect(failure.contains("foreign news is unavailable to citizens"))
        #expect(failure.contains("kwangmyong.yaml:"))
        #expect(failure.hasSuffix("citizen expected unavailable by rule foreign-news-unavailable, got block by rule foreign-news-unavailable"))
    }

    @Test func aMistakeInATestFileIsPinpointed() throws {
        let copy = try Copy()
        try copy.edit("Config/tests/kwangmyong.yaml") { $0.replacingOccurrences(of: "as: official", with: "as: oficial") }
        let check = ConfigCheck.run(configDirectory: copy.config, sitesDirectory: copy.sites)
        #expect(!check.passed)
        #expect(check.errors.contains { $0.contains("kwangmyong.yaml:") && $0.contains("unknown class 'oficial' (did you mean 'official'?)") })
    }

    /// Policy tests name a listener by its persona: moving the listeners to other ports
    /// in garden.yaml leaves them passing (they used to fail with "no listener on port 8080").
    @Test func movingTheListenersKeepsThePolicyTestsPassing() throws {
        let copy = try Copy()
        try copy.edit("Config/garden.yaml") { $0.replacingOccurrences(of: "127.0.0.1:808", with: "127.0.0.1:909") }
        let check = ConfigCheck.run(configDirectory: copy.config, sitesDirectory: copy.sites)
        #expect(check.passed, "\(check.errors) \(check.testResults.filter { $0.hasPrefix("FAIL") })")
        #expect(check.testResults.count > 10)
    }

    @Test func aListenerPersonaNoListenerHasFailsItsTest() throws {
        let copy = try Copy()
        try copy.edit("Config/garden.yaml") { $0.replacingOccurrences(of: "    persona: foreigner\n", with: "") }
        let check = ConfigCheck.run(configDirectory: copy.config, sitesDirectory: copy.sites)
        #expect(!check.passed)
        #expect(check.testResults.contains { $0.hasPrefix("FAIL") && $0.contains("no listener in garden.yaml has the persona 'foreigner'") })
    }

    @Test func aListenerThatIsNoClassIsPinpointed() throws {
        let copy = try Copy()
        try copy.edit("Config/tests/kwangmyong.yaml") { $0.replacingOccurrences(of: "listener: official", with: "listener: oficial") }
        let check = ConfigCheck.run(configDirectory: copy.config, sitesDirectory: copy.sites)
        #expect(check.errors.contains { $0.contains("kwangmyong.yaml:") && $0.contains("listener 'oficial' is not a class a listener's persona can be (did you mean 'official'?)") })
    }

    @Test func aMissingSiteFolderFails() throws {
        let copy = try Copy()
        try FileManager.default.removeItem(atPath: copy.sites + "/cooks.org.kp")
        let check = ConfigCheck.run(configDirectory: copy.config, sitesDirectory: copy.sites)
        #expect(!check.passed)
        #expect(check.errors.contains { $0.contains("cooks.org.kp: folder not found") })
    }

    @Test func aSiteWithoutHomePageWarns() throws {
        let copy = try Copy()
        try FileManager.default.removeItem(atPath: copy.sites + "/search.example/index.html")
        let check = ConfigCheck.run(configDirectory: copy.config, sitesDirectory: copy.sites)
        #expect(check.passed)
        #expect(check.warnings.contains { $0.contains("search.example: no index.html") })
    }
}
