#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs a short-lived program (curl) with `posix_spawn`, reading its output and errors.
///
/// Not Foundation's `Process`: on Linux its `run()` reads past the end of a directory
/// entry of `/proc/self/fd` and, now and then, crashes the test process (Swift 6.3.1;
/// swiftlang/swift-corelibs-foundation pull request 5472) — the more processes a run
/// starts and the more sockets it holds, the likelier. The curl tests start many.
enum ChildProcess {
    struct Result: Sendable {
        var output: [UInt8]
        var errors: [UInt8]
        var exitCode: Int32
    }

    struct SpawnFailure: Error, CustomStringConvertible {
        var code: Int32
        var description: String { "posix_spawn failed: \(String(cString: strerror(code)))" }
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: CloseFrom.self)
    }

    /// Runs `executable` with `arguments` to its end; blocking (call it off the pool).
    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        var outputPipe: [Int32] = [0, 0]
        var errorPipe: [Int32] = [0, 0]
        guard pipe(&outputPipe) == 0 else { throw SpawnFailure(code: errno) }
        guard pipe(&errorPipe) == 0 else {
            close(outputPipe[0])
            close(outputPipe[1])
            throw SpawnFailure(code: errno)
        }
        // Not inherited by other children (the dup2 below gives curl its own copies).
        for descriptor in outputPipe + errorPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        // Nothing else of the test process's: SwiftNIO's sockets are not close-on-exec, and
        // a garden's connection held open by a curl would not close when the garden closes
        // it (Foundation's Process closes them too). glibc 2.34's closefrom action, found at
        // run time: Swift's Glibc module does not declare it.
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, 3) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(outputPipe[1])
        close(errorPipe[1])
        guard spawned == 0 else {
            close(outputPipe[0])
            close(errorPipe[0])
            throw SpawnFailure(code: spawned)
        }
        // Both pipes read together, so that neither fills while the other is waited on.
        var output: [UInt8] = []
        var errors: [UInt8] = []
        var open = [outputPipe[0], errorPipe[0]]
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var polled = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), -1) >= 0 else {
                if errno == EINTR { continue }
                break
            }
            for entry in polled where entry.revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if entry.fd == outputPipe[0] { output += chunk[0..<count] } else { errors += chunk[0..<count] }
                } else if count == 0 || errno != EINTR {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS: the low 7 bits are the signal, the next 8 the exit code.
        let exitCode = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -(status & 0x7F)
        return Result(output: output, errors: errors, exitCode: exitCode)
    }
}
