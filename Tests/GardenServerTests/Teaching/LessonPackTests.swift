import Foundation
import GardenPolicy
@testable import GardenServer
import GardenSites
import GardenTeaching
import Logging
import NIOCore
import Testing

/// Lesson packs: every shipped pack passes `check` over the shipped configuration, and
/// its probes see what it expects through a live garden running it (real sockets); a
/// pack's files stand in for the garden's own; the desk's switch of lesson is put in
/// force whole or not at all; the shutdown switches act at once.
@Suite(.stopsWhatItStarts) struct LessonPackTests {
    static let personas = ["citizen", "official", "foreigner", "soldier_abroad"]

    /// A garden running `lesson` on a copy of the shipped Config/, a listener per persona.
    final class LessonGarden: Sendable {
        let folder: URL
        let directory: ConfigDirectory
        let config: GardenConfig
        let server: GardenServer
        let reloader: ConfigReloader
        let ports: [String: Int]

        init(lesson: String?, lessons: URL = Shipped.lessons) async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("lesson-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Shipped.config, to: folder.appendingPathComponent("Config"))
            let pack = try lesson.map { try LessonPack.named($0, in: lessons.path) }
            directory = ConfigDirectory(path: folder.appendingPathComponent("Config").path, lesson: pack)
            var config = try directory.load()
            config.listeners = LessonPackTests.personas.map { .init(address: ListenAddress("127.0.0.1:0")!, persona: $0) }
            var logger = Logger(label: "lesson")
            logger.logLevel = .critical
            let library = try SiteLibrary(root: Shipped.sites.path, folders: config.sites.sites.map(\.folder), logger: logger)
            server = GardenServer(
                config: config, library: library, logger: logger, siteCertificates: SiteCertificates(directory: directory.path, logger: logger)
            )
            let bound = try await server.start().map { $0.port ?? 0 }
            ports = Dictionary(uniqueKeysWithValues: zip(LessonPackTests.personas, bound))
            reloader = ConfigReloader(directory: directory, server: server, running: config, logger: logger)
            self.config = config
        }

        func probe(_ probes: [ProbeExpectation]) async -> [LessonProbes.Outcome] {
            let (config, ports) = (config, ports)
            return await Task.detached {
                LessonProbes.run(probes, config: config, sitesDirectory: Shipped.sites.path) { ports[$0] }
            }.value
        }

        func stop() async {
            await server.shutdown()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    static let shipped = ["circumvention", "great-firewall", "kwangmyong", "shutdown", "soldiers-abroad", "source-check", "throttling"]

    @Test func everyShippedPackPassesCheck() throws {
        let check = ConfigCheck.run(configDirectory: Shipped.config.path, sitesDirectory: Shipped.sites.path, lessonsDirectory: Shipped.lessons.path)
        #expect(check.errors.isEmpty, "\(check.errors)")
        #expect(check.passed, "\(check.testResults.filter { $0.hasPrefix("FAIL") })")
        #expect(LessonPack.all(in: Shipped.lessons.path).packs.map(\.name) == Self.shipped)
        for name in Self.shipped {
            #expect(check.summary.contains { $0.hasPrefix("lesson \(name): ") && $0.contains("pass") }, "\(check.summary)")
            let pack = try LessonPack.named(name, in: Shipped.lessons.path)
            #expect(pack.has("guide.md") && pack.has("worksheet.md"))
            #expect(!pack.manifest.title.isEmpty)
        }
    }

    @Test(arguments: shipped)
    func aPacksProbesSeeWhatItExpects(_ name: String) async throws {
        let garden = try await LessonGarden(lesson: name)
        defer { afterTest { await garden.stop() } }
        let pack = try LessonPack.named(name, in: Shipped.lessons.path)
        let probes = try LessonProbes.expectations(of: pack, classes: garden.config.policy.classes)
        #expect(!probes.isEmpty)
        for outcome in await garden.probe(probes) {
            #expect(outcome.passed, "\(outcome.expectation.location): as \(outcome.expectation.visitorClass) \(outcome.expectation.url): \(outcome.problem)")
        }
    }

    /// The shutdown pack's switches act now, whatever the time: exam day drops citizens;
    /// the national shutdown darkens the outside world for everyone at home, and not the
    /// national sites, nor soldiers abroad.
    @Test func theShutdownSwitchesActAtOnce() async throws {
        let garden = try await LessonGarden(lesson: "shutdown")
        defer { afterTest { await garden.stop() } }
        #expect(garden.directory.switchesFile.hasSuffix("/switches.shutdown.yaml"))
        func switches(_ text: String) throws {
            try text.write(toFile: garden.directory.switchesFile, atomically: true, encoding: .utf8)
            #expect(garden.reloader.reload(reason: "the desk's switch"))
        }
        func expect(_ lines: [(String, String, ProbeExpectation.Observed)]) async {
            let probes = lines.map { ProbeExpectation(visitorClass: $0.0, url: $0.1, expected: $0.2, location: "test") }
            for outcome in await garden.probe(probes) {
                #expect(outcome.passed, "as \(outcome.expectation.visitorClass) \(outcome.expectation.url): \(outcome.problem)")
            }
        }
        try switches("exam-day: on\n")
        await expect([("citizen", "http://friend.com.kp/", .drop), ("official", "http://friend.com.kp/", .none)])
        try switches("exam-day: off\nnational-shutdown: on\n")
        await expect([
            ("citizen", "http://friend.com.kp/", .rewritten), ("official", "http://encyclopedia.example/", .drop),
            ("official", "http://achim.news.kp/", .none), ("foreigner", "http://encyclopedia.example/", .drop),
            ("soldier_abroad", "http://encyclopedia.example/", .none),
        ])
    }

    /// A pack's policy, lists and starting switches stand in for the garden's own; the
    /// desk's switch of lesson is put in force whole, and a broken pack changes nothing.
    @Test func aPacksFilesStandInForTheGardensOwn() async throws {
        let lessons = FileManager.default.temporaryDirectory.appendingPathComponent("lessons-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: lessons) }
        let pack = lessons.appendingPathComponent("open-day")
        try FileManager.default.createDirectory(at: pack.appendingPathComponent("lists"), withIntermediateDirectories: true)
        try "title: Open day\nsummary: Nothing is censored but the news.\n".write(to: pack.appendingPathComponent("lesson.yaml"), atomically: true, encoding: .utf8)
        try """
            classes: {citizen: Everyone., official: Officials., foreigner: Guests., soldier_abroad: Soldiers.}
            default_class: citizen
            rules:
              - {id: no-news, reason: The news is closed today., hosts: ["@closed"], action: block}
            switches:
              news-closed: {title: "The news is closed: a block page", rules: [no-news], default: off}
            default: allow
            """.write(to: pack.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        try "worldnews.example\n".write(to: pack.appendingPathComponent("lists/closed.txt"), atomically: true, encoding: .utf8)
        try "news-closed: on\n".write(to: pack.appendingPathComponent("switches.yaml"), atomically: true, encoding: .utf8)

        let garden = try await LessonGarden(lesson: nil)
        defer { afterTest { await garden.stop() } }
        let expectations = [ProbeExpectation(visitorClass: "citizen", url: "http://worldnews.example/", expected: .unavailable, location: "test")]
        #expect(await garden.probe(expectations).allSatisfy(\.passed))
        // Started from the desk: the pack's policy, its list and its starting switch.
        #expect(garden.reloader.useLesson(try LessonPack.named("open-day", in: lessons.path)).isEmpty)
        #expect(garden.reloader.lesson?.name == "open-day")
        let open = [
            ProbeExpectation(visitorClass: "citizen", url: "http://worldnews.example/", expected: .block, location: "test"),
            ProbeExpectation(visitorClass: "citizen", url: "http://encyclopedia.example/", expected: .none, location: "test"),
        ]
        for outcome in await garden.probe(open) { #expect(outcome.passed, "\(outcome.problem)") }
        // A pack with a mistake is refused whole: the lesson running goes on.
        let broken = lessons.appendingPathComponent("broken")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try "title: Broken\nsummary: A typo.\n".write(to: broken.appendingPathComponent("lesson.yaml"), atomically: true, encoding: .utf8)
        try "classes: {citizen: x}\ndefault_class: citizen\nrules:\n  - {id: a, reason: b, action: blok}\n"
            .write(to: broken.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        let errors = garden.reloader.useLesson(try LessonPack.named("broken", in: lessons.path))
        #expect(errors.contains { $0.contains("broken/policy.yaml:4:") }, "\(errors)")
        #expect(garden.reloader.lesson?.name == "open-day")
        for outcome in await garden.probe(open) { #expect(outcome.passed, "\(outcome.problem)") }
        // And back to the garden's own.
        #expect(garden.reloader.useLesson(nil).isEmpty)
        #expect(await garden.probe(expectations).allSatisfy(\.passed))
    }

    @Test func anUnknownLessonIsNamedWithTheOnesThereAre() {
        #expect(throws: ConfigErrors.self) { try LessonPack.named("kwangmyung", in: Shipped.lessons.path) }
        do {
            _ = try LessonPack.named("kwangmyung", in: Shipped.lessons.path)
        } catch {
            #expect(error.description.contains("no lesson 'kwangmyung' here (did you mean 'kwangmyong'?); lessons are circumvention, great-firewall, kwangmyong, shutdown, soldiers-abroad, source-check, throttling"))
        }
    }

    @Test(arguments: [
        ("- {as: citizen, url: 'https://a.example/', connect_to: b.example, expect: reset}", nil),
        ("- {as: citizen, url: 'http://a.example/', connect_to: b.example, expect: reset}",
         "probes.yaml:2:57: connect_to is for https:// addresses (a CONNECT), not 'http://a.example/'"),
        ("- {as: citizen, url: 'https://a.example/', connect: b.example, expect: reset}", "probes.yaml:2:"),
        ("- {as: pupil, url: 'https://a.example/', expect: reset}", "probes.yaml:2:10: unknown class 'pupil'"),
    ] as [(String, String?)])
    func probesAreReadWithTheirTunnel(line: String, problem: String?) throws {
        let source = GardenConfig.Source(file: "probes.yaml", text: "probes:\n  " + line + "\n")
        do {
            let probes = try ProbeExpectation.parse(source, classes: ["citizen": "Citizens."])
            #expect(problem == nil)
            #expect(probes.first?.connectTo == "b.example")
            #expect(probes.first?.url == "https://a.example/")
        } catch {
            let problem = try #require(problem, "\(error)")
            #expect(error.description.contains(problem), "\(error)")
        }
    }
}
