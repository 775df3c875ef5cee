import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP response as bytes on the wire, split into status, headers and body.
struct RawResponse: Sendable {
    let bytes: [UInt8]

    var text: String { String(decoding: bytes, as: UTF8.self) }

    private var headEnd: Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// The status code of the first response, or 0 when nothing (or no valid head) came back.
    var status: Int {
        guard bytes.count >= 12, text.hasPrefix("HTTP/1.") else { return 0 }
        let parts = text.prefix(while: { $0 != "\r" }).split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
    }

    /// The first response's header value for `name` (case-insensitive).
    func header(_ name: String) -> String? {
        guard let end = headEnd else { return nil }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Everything after the first response's head.
    var body: [UInt8] {
        guard let end = headEnd else { return [] }
        return Array(bytes[(end + 4)...])
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking TCP client on a background thread, for requests no HTTP library would send
/// (traversal attacks, malformed heads) and for watching exactly when the server closes.
// @unchecked Sendable: one test uses it, from one thread at a time (`offPool` hands it over).
final class RawConnection: @unchecked Sendable {
    let descriptor: Int32
    /// How the last `receive` ended: the peer closed (FIN), reset (RST), or neither.
    private(set) var lastEnding: Ending = .open

    /// - Parameter source: the loopback address to connect from (127.0.0.2, say), so that
    ///   a test can be two clients; by default the system's choice (127.0.0.1).
    init(port: Int, timeout: Double, from source: String? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }  // deinit's close(-1) is harmless
        var time = timeval(tv_sec: Int(timeout), tv_usec: __suseconds_t((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRNOTAVAIL) }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            // No close here: a class whose initializer throws after setting every stored
            // property is deinitialised, and deinit closes the socket. Closing twice would
            // close whatever descriptor the server opened in between.
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Whether the server has sent something (or closed) that has not been read yet.
    var hasIncomingData: Bool {
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) >= 0
    }

    /// Reads until the peer closes, the timeout passes, or `until` says the bytes are enough.
    func receive(until done: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], closedByPeer: Bool) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 {
                lastEnding = .closed
                return (received, true)
            }
            if count < 0 {
                lastEnding = errno == ECONNRESET ? .reset : .open
                return (received, errno == ECONNRESET)
            }
            received.append(contentsOf: chunk[0..<count])
            if done(received) { return (received, false) }
        }
    }

    /// How the connection ended, read to its end: the server closed it normally (FIN),
    /// reset it (RST), or neither within the timeout.
    enum Ending: Equatable { case closed, reset, open }

    /// Reads and discards until the peer closes, resets or the timeout passes.
    func readToEnd() -> Ending {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return .closed }
            if count < 0 { return errno == ECONNRESET ? .reset : .open }
        }
    }

    /// Connects, sends, and reads until close or timeout, off the cooperative thread pool.
    static func exchange(port: Int, send bytes: [UInt8], timeout: Double) async throws -> RawResponse {
        try await offPool {
            let connection = try RawConnection(port: port, timeout: timeout)
            connection.send(bytes)
            return RawResponse(bytes: connection.receive().bytes)
        }
    }

    /// Threads for blocking socket work, shared by every test: a bounded number, so a
    /// table of two thousand attacks does not start two thousand threads at once.
    static let blockingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 32)
        pool.start()
        return pool
    }()

    /// Runs blocking work off the cooperative thread pool, so waiting tests do not starve it.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await blockingPool.runIfActive(work)
    }
}
