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
final class AuditLogFile {
    let settings: AuditLogSettings
    private var descriptor: Int32 = -1
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
        try open()
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
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
