#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GardenPolicy

/// The surveillance log on disk: lines appended in batches, the file rotated by size
/// (`audit.jsonl` → `audit.jsonl.1` → ... → `audit.jsonl.KEEP`, the oldest deleted), as
/// logrotate would. Used only from the audit trail's writer thread.
///
/// One garden writes a log: two instances started from the same folder would interleave
/// their lines and rotate each other's files. The file `PATH.lock`, locked (`flock`) for
/// as long as the log is open and holding the writer's process id, makes a second
/// instance refuse to start with a message that names the first.
final class AuditLogFile {
    let settings: AuditLogSettings
    private var descriptor: Int32 = -1
    private var lockDescriptor: Int32 = -1
    private var size = 0
    /// Why the file cannot be written (reported once, not per batch).
    private(set) var problem: String?

    /// Opens (or creates) the file, and its folder if need be.
    init(settings: AuditLogSettings) throws(AuditLogError) {
        self.settings = settings
        let folder = (settings.path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        lockDescriptor = try Self.lock(settings.path + ".lock", log: settings.path)
        do {
            try open()
        } catch {
            close(lockDescriptor)
            throw error
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if lockDescriptor >= 0 { close(lockDescriptor) }  // releases the lock
    }

    /// Locks `path` for this process, writing its id there; the error names the holder.
    private static func lock(_ path: String, log: String) throws(AuditLogError) -> Int32 {
        let opened = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard opened >= 0 else {
            throw AuditLogError(message: "cannot open the log's lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(opened, LOCK_EX | LOCK_NB) == 0 else {
            var holder = [UInt8](repeating: 0, count: 32)
            let count = read(opened, &holder, holder.count)
            let pid = String(decoding: holder.prefix(max(count, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            close(opened)
            throw AuditLogError(message: "another walled-garden\(pid.isEmpty ? "" : " (process \(pid))") is writing the log \(log); "
                + "stop it, or give this one its own log.path in garden.yaml")
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(opened, 0)
        _ = pwrite(opened, text, text.count, 0)
        return opened
    }

    private func open() throws(AuditLogError) {
        let opened = Glibc.open(settings.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard opened >= 0 else {
            throw AuditLogError(message: "cannot open the log \(settings.path): \(String(cString: strerror(errno)))")
        }
        descriptor = opened
        var status = stat()
        size = fstat(opened, &status) == 0 ? Int(status.st_size) : 0
    }

    /// Appends `bytes` (whole lines), rotating first if they would take the file past its size.
    func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if size > 0, size + bytes.count > settings.maxBytes { rotate() }
        guard descriptor >= 0 else { return }
        var written = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let result = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    problem = "writing the log \(settings.path) failed: \(String(cString: strerror(errno)))"
                    return
                }
                written += result
            }
        }
        size += written
    }

    /// path.(keep-1) → path.keep, ..., path → path.1; a fresh file at path.
    func rotate() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        let path = settings.path
        if settings.keep == 0 {
            unlink(path)
        } else {
            unlink("\(path).\(settings.keep)")
            if settings.keep > 1 {
                for number in stride(from: settings.keep - 1, through: 1, by: -1) {
                    rename("\(path).\(number)", "\(path).\(number + 1)")
                }
            }
            rename(path, "\(path).1")
        }
        do {
            try open()
        } catch {
            problem = error.message
        }
    }
}

public struct AuditLogError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
