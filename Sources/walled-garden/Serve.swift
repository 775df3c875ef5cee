import ArgumentParser
import Foundation
import GardenAudit
import GardenPolicy
import GardenDesk
import GardenServer
import GardenSites
import Logging

/// `walled-garden serve`: load the config and the sites, listen, serve until stopped.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the garden (the default command).",
        discussion: """
        Examples:
          walled-garden                          Config/ and Sites/ on 127.0.0.1:8080
          walled-garden --listen 127.0.0.1:9000  another port
          walled-garden --listen 127.0.0.1:9000=citizen --listen 127.0.0.1:9001=official
                                                 two ports, each with its persona
          walled-garden --config lesson/Config --sites lesson/Sites
        Stop with Ctrl-C: requests in flight finish first.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The configuration folder (garden.yaml, sites.yaml).", valueName: "dir"))
    var config = "Config"

    @Option(name: .long, help: ArgumentHelp("The folder holding one folder per site.", valueName: "dir"))
    var sites = "Sites"

    @OptionGroup var lessonOptions: LessonOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Listen here instead of the addresses in garden.yaml; repeat for several. =class gives the listener a persona "
                + "(everyone who comes through it is of that class); without one, visitors are of the default class. "
                + "0.0.0.0:8080 opens the garden to the network.",
            valueName: "host:port[=class]"
        )
    )
    var listen: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Where the teacher's desk listens, instead of garden.yaml's teacher.listen (127.0.0.1:9090), or off.",
        valueName: "host:port|off"
    ))
    var desk: String?

    @Option(name: .long, help: ArgumentHelp("How much to log: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    func validate() throws {
        for text in listen where Self.listener(text) == nil {
            throw ValidationError("'\(text)' is not a listen address; write it as 127.0.0.1:8080 or [::1]:8080, with =class for a persona")
        }
        if let desk, desk != "off", ListenAddress(desk) == nil {
            throw ValidationError("'\(desk)' is not an address for the desk; write it as 127.0.0.1:9090, or off")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("'\(logLevel)' is not a log level; use trace, debug, info, notice, warning or error")
        }
    }

    func run() async throws {
        var logger = Logger(label: "walled-garden")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let directory = try configDirectory()
        var (gardenConfig, listenersInFiles) = try loadConfig(directory, logger: logger)
        // The first start makes the desk's password; it is shown once, in the banner. A
        // start that fails after making it takes it back (nobody has seen it).
        let newDeskPassword = try makeDeskPasswordIfNeeded(&gardenConfig, directory: directory)
        func takeBackNewPassword() {
            if newDeskPassword != nil { unlink(directory.deskPasswordFile) }
        }
        let server: GardenServer, library: SiteLibrary, bound: [String]
        do {
            (server, library, bound) = try await startGarden(gardenConfig, certificatesIn: directory.path, logger: logger)
        } catch {
            takeBackNewPassword()
            throw error
        }
        let watcher = library.watch(every: .milliseconds(500), logger: logger)
        let reloader = ConfigReloader(
            directory: directory, server: server, running: gardenConfig, listenersInFiles: listenersInFiles, logger: logger
        )
        let configWatcher = reloader.watch(every: .milliseconds(500))
        let hangUp = ShutdownSignal.onHangUp { reloader.reload(reason: "SIGHUP") }
        // The teacher's desk (changes to its address apply at restart, like the listeners'),
        // listening before the banner says where it is.
        var desk: Task<Void, Never>?
        if let settings = gardenConfig.teacher {
            do {
                desk = try await startDesk(settings, server: server, reloader: reloader, logger: logger)
            } catch {
                FileHandle.standardError.write(Data((
                    "walled-garden: the teacher's desk cannot listen on \(settings.address): \(error)\n"
                        + "walled-garden: move it with --desk HOST:PORT, or turn it off with --desk off (teacher: off in garden.yaml); nothing was started.\n"
                ).utf8))
                takeBackNewPassword()
                watcher.cancel()
                configWatcher.cancel()
                hangUp.cancel()
                await server.shutdown()
                throw ExitCode(69)  // EX_UNAVAILABLE
            }
        }
        // Written unbuffered, so the banner shows at once even when output goes to a file.
        var banner = Banner(config: gardenConfig, sitesFolder: sites, newDeskPassword: newDeskPassword, deskPasswordFile: directory.deskPasswordFile)
        banner.lesson = directory.lesson
        FileHandle.standardOutput.write(Data((banner.text + "\n").utf8))
        logger.debug("listening", metadata: ["addresses": "\(bound)"])

        let signal = await ShutdownSignal.wait()
        logger.info("received \(signal); finishing requests in flight, then stopping")
        desk?.cancel()
        await server.shutdown()
        watcher.cancel()
        configWatcher.cancel()
        hangUp.cancel()
        logger.info("stopped")
    }

    /// A `--listen` value: `host:port`, or `host:port=class` for a listener with a persona.
    static func listener(_ text: String) -> GardenConfig.Listener? {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = ListenAddress(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return GardenConfig.Listener(address: address) }
        guard !parts[1].isEmpty else { return nil }
        return GardenConfig.Listener(address: address, persona: String(parts[1]))
    }

    /// The configuration folder, with the lesson of `--lesson` laid over it.
    func configDirectory() throws -> ConfigDirectory {
        try lessonOptions.directory(config)
    }

    /// The configuration, with `--listen` applied, and the listeners garden.yaml gave when
    /// `--listen` replaced them; on errors, says why and exits 78 (EX_CONFIG).
    func loadConfig(_ directory: ConfigDirectory, logger: Logger) throws -> (GardenConfig, listenersInFiles: [GardenConfig.Listener]?) {
        var gardenConfig: GardenConfig
        do {
            gardenConfig = try directory.load()
        } catch {
            FileHandle.standardError.write(Data("\(error)\nwalled-garden: the configuration has errors; nothing was started.\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        for warning in gardenConfig.warnings { logger.warning("\(warning)") }
        var listenersInFiles: [GardenConfig.Listener]?
        if !listen.isEmpty {
            listenersInFiles = gardenConfig.listeners
            gardenConfig.listeners = listen.compactMap(Self.listener)
            let classes = gardenConfig.policy.classes
            for persona in gardenConfig.listeners.compactMap(\.persona) where classes[persona] == nil {
                let known = classes.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
                FileHandle.standardError.write(Data("walled-garden: --listen names the class '\(persona)', which policy.yaml does not have; the classes are \(known)\n".utf8))
                throw ExitCode(64)  // EX_USAGE
            }
            // --listen may open the garden to the network: never as an open proxy.
            if let problem = gardenConfig.openProxyProblem {
                FileHandle.standardError.write(Data("walled-garden: \(problem)\nwalled-garden: nothing was started.\n".utf8))
                throw ExitCode(78)
            }
        }
        if let desk {
            if let address = ListenAddress(desk) {
                var settings = gardenConfig.teacher ?? .standard
                settings.address = address
                if settings.passwordHash == nil, case .success(let hash) = ConfigDirectory(path: config).readDeskPassword() {
                    settings.passwordHash = hash
                }
                gardenConfig.teacher = settings
            } else {
                gardenConfig.teacher = nil
            }
        }
        return (gardenConfig, listenersInFiles)
    }

    /// When the desk is on and has no password yet, makes one, keeps its hash in
    /// `desk-password` and returns it (for the banner, the one time it is shown).
    func makeDeskPasswordIfNeeded(_ gardenConfig: inout GardenConfig, directory: ConfigDirectory) throws -> String? {
        guard var settings = gardenConfig.teacher, settings.passwordHash == nil else { return nil }
        let password = DeskPasswordCommand.newPassword()
        do {
            let hash = try PasswordHash.make(password: password)
            try directory.writeDeskPassword(hash)
            settings.passwordHash = hash
        } catch {
            FileHandle.standardError.write(Data("walled-garden: cannot keep the desk's password in \(directory.deskPasswordFile): \(error)\n".utf8))
            throw ExitCode(73)  // EX_CANTCREAT
        }
        gardenConfig.teacher = settings
        return password
    }

    /// The sites read, the audit trail opened and the listeners bound; on a failure, says
    /// why and exits (78 for a missing site folder, 73 for the log, 69 for a listener).
    /// The simulated sites' certificate authority is kept in (or made in) `certificatesIn`.
    func startGarden(_ gardenConfig: GardenConfig, certificatesIn: String, logger: Logger) async throws -> (GardenServer, SiteLibrary, [String]) {
        let library: SiteLibrary
        do {
            library = try SiteLibrary(root: sites, folders: gardenConfig.sites.sites.map(\.folder), logger: logger)
        } catch {
            FileHandle.standardError.write(Data("\(error) (a site in \(config)/sites.yaml has no folder in \(sites)/)\n".utf8))
            throw ExitCode(78)
        }
        let audit: AuditTrail
        do {
            audit = try AuditTrail(settings: gardenConfig.auditLog, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("walled-garden: \(error) (log.path in \(config)/garden.yaml)\n".utf8))
            throw ExitCode(73)  // EX_CANTCREAT
        }
        let certificates = SiteCertificates(directory: certificatesIn, logger: logger)
        let server = GardenServer(config: gardenConfig, library: library, logger: logger, audit: audit, siteCertificates: certificates)
        do {
            return (server, library, try await server.start().map { "\($0)" })
        } catch {
            FileHandle.standardError.write(Data("walled-garden: \(error)\n".utf8))
            throw ExitCode(69)  // EX_UNAVAILABLE
        }
    }

    /// The teacher's desk, listening, and serving until its task is cancelled; throws
    /// when it cannot listen.
    func startDesk(_ settings: TeacherSettings, server: GardenServer, reloader: ConfigReloader, logger: Logger) async throws -> Task<Void, Never> {
        let teacher = TeacherDesk(
            settings: settings, sitesDirectory: sites, logger: logger, audit: server.audit, reloader: reloader,
            configDirectory: config, openConnections: { server.openConnections }, students: server.students, lessonsDirectory: lessonOptions.lessons
        ) { reloader.runningConfig }
        // The desk is the garden itself: never reached through its way out.
        if settings.address.port != 0 { server.deskListens(at: settings.address.port) }
        if !settings.address.isLoopback {
            logger.warning(
                "the teacher's desk listens beyond loopback: anyone on the network can reach its login page",
                metadata: ["address": "\(settings.address)"]
            )
        }
        let (started, continuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let task = Task {
            do {
                try await teacher.run { port in
                    server.deskListens(at: port)
                    continuation.yield(.success(port))
                }
            } catch {
                continuation.yield(.failure(error))
                logger.error("the teacher's desk stopped", metadata: ["error": "\(error)"])
            }
            continuation.finish()
        }
        var iterator = started.makeAsyncIterator()
        switch await iterator.next() {
        case .success: return task
        case .failure(let error): throw error
        case nil: throw DeskStopped()
        }
    }

    /// The desk ended before it listened, without saying why.
    struct DeskStopped: Error, CustomStringConvertible {
        var description: String { "it stopped before listening" }
    }
}
