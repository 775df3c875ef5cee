import Foundation
import GardenAudit
import GardenPolicy
import Logging
import Synchronization

/// Reloads the policy when its files change (or on demand, for SIGHUP), so a teacher's
/// saved edit is live within a second.
///
/// A new configuration is read and checked off the request path and put in force whole;
/// when it has errors, the last good policy keeps serving and the errors are logged (and
/// kept in `lastErrors` for the teacher's dashboard). Polling file stamps, rather than
/// inotify, also sees editors that save by writing a new file and renaming it.
public final class ConfigReloader: Sendable {
    /// The folder, with the lesson running (changed from the desk's Lessons page).
    private let place: Mutex<ConfigDirectory>
    public var directory: ConfigDirectory { place.withLock { $0 } }
    private let server: GardenServer
    private let logger: Logger
    private let state: Mutex<(stamps: [String: String], errors: [String], running: GardenConfig, last: LastReload?)>

    /// The outcome of the last reload, for the desk's Policy page.
    public struct LastReload: Sendable {
        /// Milliseconds since 1970.
        public var time: Int64
        public var succeeded: Bool
        public var reason: String
    }

    /// The sockets bound at start: they serve until a restart, whatever the files say
    /// now, so the configuration in force keeps naming them (the desk prints them on the
    /// sign-in cards; `--listen` may have replaced garden.yaml's).
    private let listening: [GardenConfig.Listener]

    /// - Parameters:
    ///   - running: the configuration the server was started with.
    ///   - listenersInFiles: the listeners garden.yaml gave at start, when the command line
    ///     replaced them (`--listen`); nil when `running`'s are garden.yaml's.
    public init(
        directory: ConfigDirectory, server: GardenServer, running: GardenConfig, listenersInFiles: [GardenConfig.Listener]? = nil,
        logger: Logger
    ) {
        self.listening = running.listeners
        self.listenersInFiles = Mutex(listenersInFiles ?? running.listeners)
        self.place = Mutex(directory)
        self.server = server
        self.logger = logger
        self.state = Mutex(([:], [], running, nil))
        let stamps = Self.stamps(of: directory)
        state.withLock { $0.stamps = stamps }
    }

    /// The configuration in force: the last one that loaded without errors.
    public var runningConfig: GardenConfig { state.withLock { $0.running } }

    /// When the policy was last reloaded, why, and whether the new one took.
    public var lastReload: LastReload? { state.withLock { $0.last } }

    /// The errors of the last failed reload, empty once a reload succeeds.
    public var lastErrors: [String] { state.withLock { $0.errors } }

    /// Reads the configuration again and puts its policy in force if it is valid.
    ///
    /// - Returns: true when the new policy is in force.
    @discardableResult
    public func reload(reason: String) -> Bool {
        serial.withLock { _ in reload(reason: reason, from: directory) }
    }

    /// Runs `lesson` (nil: the garden's own policy) from now on: its files are read and
    /// put in force whole, or, when they have errors, nothing changes and the errors are
    /// returned (the last good policy keeps serving).
    public func useLesson(_ lesson: LessonPack?) -> [String] {
        serial.withLock { _ in
            var next = directory
            next.lesson = lesson
            guard reload(reason: lesson.map { "the lesson \($0.name) was started" } ?? "the lesson was ended", from: next) else { return lastErrors }
            place.withLock { $0 = next }
            let stamps = Self.stamps(of: next)
            state.withLock { $0.stamps = stamps }
            return []
        }
    }

    /// The lesson running, if any.
    public var lesson: LessonPack? { directory.lesson }

    /// What garden.yaml said of the listeners at the last read, to tell an edit of them.
    private let listenersInFiles: Mutex<[GardenConfig.Listener]>

    /// One reload at a time: a lesson started from the desk and a file saved in the same
    /// second must not put an older read in force after a newer one.
    private let serial = Mutex(())

    private func reload(reason: String, from directory: ConfigDirectory) -> Bool {
        /// Keeps the last good policy serving and the errors for the dashboard.
        func refuse(_ error: ConfigErrors) -> Bool {
            let errors = error.diagnostics.map(\.description)
            state.withLock {
                $0.errors = errors
                $0.last = LastReload(time: AuditTrail.nowMilliseconds(), succeeded: false, reason: reason)
            }
            server.audit.metrics.reloaded(succeeded: false)
            logger.error("configuration has errors; still serving the last good policy", metadata: [
                "reason": "\(reason)", "errors": "\(errors.joined(separator: "\n"))",
            ])
            return false
        }
        var config: GardenConfig
        let filesListeners: [GardenConfig.Listener]
        do {
            config = try directory.load()
            filesListeners = config.listeners
            config.listeners = listening
            // Templates and new site folders are put in force with the policy, or not at all.
            try server.apply(config)
        } catch {
            return refuse(error)
        }
        let running = state.withLock { state in
            let previous = state.running
            state.running = config
            state.errors = []
            state.last = LastReload(time: AuditTrail.nowMilliseconds(), succeeded: true, reason: reason)
            return previous
        }
        server.audit.statistics.policyReloaded()
        server.audit.metrics.reloaded(succeeded: true)
        logger.info("policy reloaded", metadata: ["reason": "\(reason)", "rules": "\(config.policy.rules.count)"])
        for warning in config.warnings { logger.warning("\(warning)") }
        let listenersChanged = listenersInFiles.withLock { known in
            defer { known = filesListeners }
            return known != filesListeners
        }
        if listenersChanged || config.limits != running.limits {
            logger.warning("changes to listeners or limits take effect when the garden restarts")
        }
        return true
    }

    /// Checks the files every `interval` and reloads when any changed, until cancelled.
    public func watch(every interval: Duration) -> Task<Void, Never> {
        Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                let stamps = Self.stamps(of: directory)
                let changed = state.withLock { state in
                    guard state.stamps != stamps else { return false }
                    state.stamps = stamps
                    return true
                }
                if changed { reload(reason: "a configuration file changed") }
            }
        }
    }

    /// Size and modification time of every file the configuration is read from.
    private static func stamps(of directory: ConfigDirectory) -> [String: String] {
        var stamps: [String: String] = [:]
        for file in directory.watchedFiles {
            var info = stat()
            if stat(file, &info) == 0 {
                stamps[file] = "\(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
            }
        }
        return stamps
    }
}
