import Foundation
import GardenPolicy
import GardenServer
import GardenSites
import Logging

/// What `walled-garden check` found: like `nginx -t`, everything the garden would load at
/// start, loaded without serving.
public struct ConfigCheck: Sendable {
    /// Problems that would stop the garden from starting, each `file:line:column: message`
    /// where the place is known.
    public var errors: [String] = []
    /// Things the garden would skip while serving (a link leaving a site folder, say).
    public var warnings: [String] = []
    /// One line per checked part, for the summary.
    public var summary: [String] = []
    /// One line per policy test: `PASS name` or `FAIL name (file:line): why`.
    public var testResults: [String] = []
    /// How many policy tests failed.
    public var failedTests = 0

    /// Whether the garden would start and every policy test passed.
    public var passed: Bool { errors.isEmpty && failedTests == 0 }

    /// Checks the configuration folder and the sites it names, and every lesson pack of
    /// `lessonsDirectory` laid over them (its files, its policy tests, its probes' syntax).
    public static func run(configDirectory: String, sitesDirectory: String, lessonsDirectory: String? = nil) -> ConfigCheck {
        var check = ConfigCheck()
        let directory = ConfigDirectory(path: configDirectory)
        let config: GardenConfig
        do {
            config = try directory.load()
        } catch {
            check.errors = error.diagnostics.map(\.description)
            return check
        }
        check.warnings += config.warnings.map(\.description)
        let zones = Dictionary(grouping: config.sites.sites, by: \.zone)
        check.summary.append(
            "\(directory.file("garden.yaml")), \(directory.file("sites.yaml")): ok — "
                + "\(config.sites.sites.count) sites (\(zones[.intranet]?.count ?? 0) intranet, "
                + "\(zones[.internet]?.count ?? 0) internet), portal \(config.sites.portalHost), "
                + "listening on \(config.listeners.map(\.address.description).joined(separator: ", "))"
        )
        let policy = config.policy
        check.summary.append(
            "policy: \(policy.classes.count) visitor classes (default \(policy.defaultClass)), "
                + "\(policy.rules.count) rules, otherwise \(policy.defaultAction)"
        )
        let ownTemplates = config.templates.keys.sorted()
        check.summary.append(
            "\(directory.file("templates")): ok — "
                + (ownTemplates.isEmpty ? "none; the built-in pages serve" : "\(ownTemplates.count) page templates (\(ownTemplates.joined(separator: ", ")))")
        )
        var fileCount = 0
        var contents: [String: SiteContent] = [:]
        for site in config.sites.sites {
            let folder = sitesDirectory.hasSuffix("/") ? sitesDirectory + site.folder : sitesDirectory + "/" + site.folder
            do {
                let (loaded, warnings) = try SiteLoader.load(folder: folder)
                check.warnings += warnings
                fileCount += loaded.content.files.count
                contents[site.host] = loaded.content
                if loaded.content.files["index.html"] == nil {
                    check.warnings.append("\(folder): no index.html, so http://\(site.host)/ answers 404")
                }
            } catch {
                check.errors.append("\(error) (site \(site.host) in \(directory.file("sites.yaml")))")
            }
        }
        if check.errors.isEmpty {
            check.summary.append("\(sitesDirectory): ok — \(fileCount) files in \(config.sites.sites.count) site folders")
        }
        check.runPolicyTests(in: directory.file("tests"), sites: SiteFolders(config: config, directory: sitesDirectory, preloaded: contents))
        if let lessonsDirectory {
            let (packs, problems) = LessonPack.all(in: lessonsDirectory)
            check.errors += problems.map(\.description)
            for pack in packs { check.checkLesson(pack, configDirectory: configDirectory, sitesDirectory: sitesDirectory, contents: contents) }
        }
        return check
    }

    /// A lesson pack over the configuration: it loads, its policy tests pass, its probes read.
    private mutating func checkLesson(_ pack: LessonPack, configDirectory: String, sitesDirectory: String, contents: [String: SiteContent]) {
        let config: GardenConfig
        do {
            config = try ConfigDirectory(path: configDirectory, lesson: pack).load()
        } catch {
            errors += error.diagnostics.map(\.description)
            return
        }
        warnings += config.warnings.map(\.description)
        var probes = 0
        do {
            probes = try LessonProbes.expectations(of: pack, classes: config.policy.classes).count
        } catch {
            errors += error.diagnostics.map(\.description)
        }
        for document in ["guide.md", "worksheet.md"] where !pack.has(document) {
            warnings.append("\(pack.folder): no \(document)")
        }
        runPolicyTests(
            in: pack.file("tests"), sites: SiteFolders(config: config, directory: sitesDirectory, preloaded: contents),
            label: "lesson \(pack.name): \(probes) probes; policy tests"
        )
    }

    /// Runs every case of `tests/*.yaml` against the policy.
    private mutating func runPolicyTests(in folder: String, sites: SiteFolders, label: String = "policy tests") {
        let config = sites.config
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
        guard !names.isEmpty else { return }
        let failedBefore = failedTests
        var passedCount = 0
        for name in names {
            let file = folder + "/" + name
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                errors.append("\(file): cannot be read")
                continue
            }
            let cases: [PolicyTestCase]
            do {
                cases = try PolicyTestCase.parse(
                    .init(file: file, text: text), classes: config.policy.classes, accounts: Set(config.policy.accounts.keys)
                )
            } catch {
                errors += error.diagnostics.map(\.description)
                continue
            }
            for testCase in cases {
                switch Self.run(testCase, sites: sites) {
                case .success:
                    passedCount += 1
                    testResults.append("PASS \(testCase.name)")
                case .failure(let failure):
                    failedTests += 1
                    testResults.append("FAIL \(testCase.name) (\(testCase.location)): \(failure.message)")
                }
            }
        }
        let total = passedCount + failedTests - failedBefore
        let failedHere = failedTests - failedBefore
        summary.append(failedHere == 0 ? "\(label): all \(total) pass" : "\(label): \(failedHere) of \(total) fail")
    }

    private struct TestFailure: Error {
        let message: String
    }

    /// Plans the case's request as the data plane would, and compares the decision.
    private static func run(_ testCase: PolicyTestCase, sites: SiteFolders) -> Result<Void, TestFailure> {
        var persona = testCase.visitorClass
        if persona == nil, let named = testCase.listenerPersona {
            guard sites.config.listeners.contains(where: { $0.persona == named }) else {
                return .failure(TestFailure(message: "no listener in garden.yaml has the persona '\(named)'"))
            }
            persona = named
        } else if persona == nil, let port = testCase.listenerPort {
            guard let listener = sites.config.listeners.first(where: { $0.address.port == port }) else {
                return .failure(TestFailure(message: "no listener on port \(port) in garden.yaml (name it by its persona instead: listener: citizen)"))
            }
            persona = listener.persona
        }
        // An https:// address is the CONNECT a browser sends for it.
        let (url, method) = Visit.asBrowserAsks(url: testCase.url, method: testCase.method)
        let visit = Visit(
            url: url, method: method, persona: persona, account: testCase.account,
            clientAddress: testCase.clientAddress, time: testCase.time ?? Int64(Date().timeIntervalSince1970)
        )
        let planned: PlannedVisit
        do {
            planned = try VisitPlanner(sites: sites).plan(visit)
        } catch {
            return .failure(TestFailure(message: error.description))
        }
        guard let facts = planned.facts, let decision = planned.decision else {
            return .failure(TestFailure(message: "the request is answered before the censor decides (\(planned.outcome))"))
        }
        let actionMatches = decision.action.name == testCase.expectedAction
        let ruleMatches = testCase.expectedRule.map { $0 == decision.ruleID } ?? true
        if actionMatches, ruleMatches { return .success(()) }
        let expected = testCase.expectedAction + (testCase.expectedRule.map { " by rule \($0)" } ?? "")
        return .failure(TestFailure(message: "\(facts.visitorClass) expected \(expected), got \(decision.action.name) by rule \(decision.ruleID)"))
    }
}
