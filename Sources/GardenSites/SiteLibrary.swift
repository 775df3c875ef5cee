import Logging
import Synchronization

/// The in-memory copy of every site folder, kept current with the disk.
///
/// Requests read a snapshot under a short lock; a watcher polls the folders' file stamps
/// (cheap: one `lstat` per file) and swaps in a reloaded site when anything changed, so an
/// edit on disk is served within a poll interval without a restart. Polling, rather than
/// inotify, also sees editors that save by writing a new file and renaming it.
public final class SiteLibrary: Sendable {
    /// The directory that holds one folder per site.
    public let root: String
    private let sites: Mutex<[String: LoadedSite]>
    private let changes = Atomic<Int>(0)

    /// Loads every named folder under `root`.
    ///
    /// - Throws: `SiteLoadError` for the first folder that is missing or not a folder.
    public init(root: String, folders: [String], logger: Logger) throws(SiteLoadError) {
        self.root = root
        var loaded: [String: LoadedSite] = [:]
        for folder in Set(folders) {
            let (site, warnings) = try SiteLoader.load(folder: Self.path(root, folder))
            for warning in warnings { logger.warning("\(warning)") }
            loaded[folder] = site
        }
        self.sites = Mutex(loaded)
    }

    private static func path(_ root: String, _ folder: String) -> String {
        root.hasSuffix("/") ? root + folder : root + "/" + folder
    }

    /// Counts reloads: readers that keep their own copy compare it to know when to refresh.
    public var generation: Int { changes.load(ordering: .acquiring) }

    /// Every folder's current content, with the generation it belongs to.
    public func snapshot() -> (generation: Int, contents: [String: SiteContent]) {
        sites.withLock { sites in
            (changes.load(ordering: .acquiring), sites.mapValues(\.content))
        }
    }

    /// The current content of a site folder.
    public func content(folder: String) -> SiteContent? {
        sites.withLock { $0[folder]?.content }
    }

    /// Makes `folders` the set of sites held: loads the new ones, lets go of the ones no
    /// longer named (a `sites.yaml` edited during a lesson). Nothing changes when a new
    /// folder cannot be loaded.
    ///
    /// - Throws: `SiteLoadError` for the first new folder that is missing or unreadable.
    public func setFolders(_ folders: [String], logger: Logger) throws(SiteLoadError) {
        let wanted = Set(folders)
        let held = sites.withLock { Set($0.keys) }
        var added: [String: LoadedSite] = [:]
        for folder in wanted.subtracting(held) {
            let (site, warnings) = try SiteLoader.load(folder: Self.path(root, folder))
            for warning in warnings { logger.warning("\(warning)") }
            added[folder] = site
        }
        guard !added.isEmpty || !held.subtracting(wanted).isEmpty else { return }
        sites.withLock { sites in
            for folder in held.subtracting(wanted) { sites[folder] = nil }
            for (folder, site) in added { sites[folder] = site }
            changes.add(1, ordering: .releasing)
        }
    }

    /// Checks every folder once and reloads those that changed.
    ///
    /// A folder that vanished or cannot be read keeps its last good content.
    /// - Returns: the folders that were reloaded.
    @discardableResult
    public func refresh(logger: Logger) -> [String] {
        let current = sites.withLock { $0 }
        var reloaded: [String] = []
        for (folder, site) in current {
            let path = Self.path(root, folder)
            guard SiteLoader.hasChanged(folder: path, since: site) else { continue }
            do {
                let (fresh, warnings) = try SiteLoader.load(folder: path, reusing: site)
                for warning in warnings { logger.warning("\(warning)") }
                sites.withLock {
                    $0[folder] = fresh
                    changes.add(1, ordering: .releasing)
                }
                reloaded.append(folder)
                logger.info("reloaded site folder", metadata: ["folder": "\(folder)", "files": "\(fresh.content.files.count)"])
            } catch {
                logger.error("cannot reload site folder; still serving the last good copy", metadata: ["error": "\(error)"])
            }
        }
        return reloaded
    }

    /// Polls for changes every `interval` until the returned task is cancelled.
    public func watch(every interval: Duration, logger: Logger) -> Task<Void, Never> {
        Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                refresh(logger: logger)
            }
        }
    }
}
