#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem that keeps a site folder from loading at all.
public struct SiteLoadError: Error, Sendable, CustomStringConvertible {
    /// The folder that failed to load.
    public var folder: String
    /// What is wrong with it.
    public var message: String
    public var description: String { "\(folder): \(message)" }
}

/// What identifies one version of a file on disk: if none of these changed, its bytes did not.
struct FileStamp: Sendable, Equatable {
    var size: Int
    var inode: UInt64
    var modified: timespec
    var changed: timespec

    init(_ info: stat) {
        size = Int(info.st_size)
        inode = UInt64(info.st_ino)
        modified = info.st_mtim
        changed = info.st_ctim
    }

    static func == (a: FileStamp, b: FileStamp) -> Bool {
        a.size == b.size && a.inode == b.inode
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
            && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
    }
}

/// A site folder as loaded, with the stamps that tell when to load it again.
public struct LoadedSite: Sendable {
    /// What the folder serves.
    public let content: SiteContent
    let stamps: [String: FileStamp]
}

/// Reads a site folder into memory, enforcing what may be served from it.
///
/// - Dotfiles and dot-folders are never read (`.git`, `.env`, editor swap files).
/// - A symbolic link is followed only when its real target is a regular file inside the
///   site's own folder; links to folders and links that leave the folder are skipped.
/// - Only regular files are served; sockets, devices and FIFOs are skipped.
public enum SiteLoader {
    /// Largest file loaded into memory; larger files are skipped with a warning.
    public static let maxFileBytes = 64 << 20
    /// Most files read from one site, so a wrong folder (a home directory) cannot eat memory.
    public static let maxFiles = 20_000
    private static let maxDepth = 32

    /// One entry found while scanning: where to read it and its stamp.
    struct Entry {
        var absolutePath: String
        var stamp: FileStamp
    }

    /// Lists the servable files of a folder with their stamps, without reading them.
    static func scan(folder: String) throws(SiteLoadError) -> (entries: [String: Entry], skipped: [String]) {
        guard let root = realPath(folder) else {
            throw SiteLoadError(folder: folder, message: "folder not found")
        }
        var info = stat()
        guard stat(root, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw SiteLoadError(folder: folder, message: "not a folder")
        }
        var entries: [String: Entry] = [:]
        var skipped: [String] = []
        walk(directory: root, relative: "", root: root, depth: 0, entries: &entries, skipped: &skipped)
        return (entries, skipped)
    }

    private static func walk(
        directory: String, relative: String, root: String, depth: Int,
        entries: inout [String: Entry], skipped: inout [String]
    ) {
        guard depth < maxDepth, let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        while let item = readdir(handle) {
            guard entries.count < maxFiles else { return }
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(validatingCString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            // Bytes, not `String.hasPrefix`: ". + a combining mark" is one grapheme, not a dot.
            guard let name, name.utf8.first != UInt8(ascii: ".") else { continue }
            let absolute = directory + "/" + name
            let relativePath = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(absolute, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                walk(directory: absolute, relative: relativePath, root: root, depth: depth + 1,
                     entries: &entries, skipped: &skipped)
            case S_IFREG:
                entries[relativePath] = Entry(absolutePath: absolute, stamp: FileStamp(info))
            case S_IFLNK:
                var target = stat()
                // Bytes: `String.hasPrefix` compares under canonical equivalence, and
                // `café` and `cafe\u{301}` are two different folders on Linux.
                guard let resolved = realPath(absolute), resolved.utf8.starts(with: (root + "/").utf8),
                      stat(resolved, &target) == 0, target.st_mode & S_IFMT == S_IFREG
                else {
                    skipped.append("\(relativePath) (a link that leaves the site folder or is not a file)")
                    continue
                }
                entries[relativePath] = Entry(absolutePath: resolved, stamp: FileStamp(target))
            default:
                skipped.append("\(relativePath) (not a regular file)")
            }
        }
    }

    /// Loads a folder, reusing files from `previous` whose stamps did not change.
    public static func load(folder: String, reusing previous: LoadedSite? = nil) throws(SiteLoadError) -> (site: LoadedSite, warnings: [String]) {
        let (entries, skipped) = try scan(folder: folder)
        var warnings = skipped.map { "\(folder)/\($0): skipped" }
        var files: [String: StaticFile] = [:]
        var stamps: [String: FileStamp] = [:]
        for (path, entry) in entries {
            if let previous, previous.stamps[path] == entry.stamp, let file = previous.content.files[path] {
                files[path] = file
                stamps[path] = entry.stamp
                continue
            }
            guard entry.stamp.size <= maxFileBytes else {
                warnings.append("\(folder)/\(path): skipped, larger than \(maxFileBytes >> 20) MiB")
                continue
            }
            guard let bytes = readFile(entry.absolutePath) else {
                warnings.append("\(folder)/\(path): could not be read")
                continue
            }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            files[path] = StaticFile(bytes: bytes, fileName: name, lastModified: Int(entry.stamp.modified.tv_sec))
            stamps[path] = entry.stamp
        }
        return (LoadedSite(content: SiteContent(files: files), stamps: stamps), warnings)
    }

    /// Whether the folder on disk differs from what was loaded.
    static func hasChanged(folder: String, since loaded: LoadedSite) -> Bool {
        guard let (entries, _) = try? scan(folder: folder) else { return true }
        guard entries.count == loaded.stamps.count else { return true }
        for (path, entry) in entries where loaded.stamps[path] != entry.stamp {
            return true
        }
        return false
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= maxFileBytes else {
            return nil
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maxFileBytes { return nil }
        }
        return bytes
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
