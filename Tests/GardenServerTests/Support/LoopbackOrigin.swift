import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on loopback standing in for a site on the real internet: the
/// far end of `upstream: direct` fetches. It writes its answers byte by byte as given
/// here (hop-by-hop fields, chunked bodies, silence), and remembers every request as it
/// arrived, so tests can see what the garden sent on.
final class LoopbackOrigin: Sendable {
    let channel: any Channel
    let port: Int
    /// Each request as received: head and body, as text.
    let received = Mutex<[String]>([])
    /// Body bytes of `/flood/N` answers the kernel has taken so far (write completed).
    var floodedBytes: Int { log.flooded.load(ordering: .relaxed) }
    /// Connections the origin has accepted so far.
    var connectionsAccepted: Int { log.connections.load(ordering: .relaxed) }
    private let log: RequestLog

    private init(channel: any Channel, log: RequestLog) {
        self.channel = channel
        self.log = log
        self.port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> LoopbackOrigin {
        let log = RequestLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(log: log)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let origin = LoopbackOrigin(channel: channel, log: log)
        log.origin.withLock { $0 = origin }
        return origin
    }

    func stop() async {
        try? await channel.close()
    }

    /// `<html><body><p>The revolution today.</p></body></html>`, gzipped.
    static let gzippedPage: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 179, 201, 40, 201, 205, 177, 179, 73, 202, 79, 169, 180, 179, 41, 176, 11, 201, 72, 85, 40, 74, 45, 203, 207, 41, 45, 201, 204, 207, 83, 40, 201, 79, 73, 172, 212, 179, 209, 47, 176, 179, 209, 135, 40, 209, 7, 171, 7, 0, 46, 227, 114, 239, 54, 0, 0, 0]

    /// The last request the origin received, as text.
    var lastRequest: String { received.withLock { $0.last ?? "" } }

    /// Lets handlers made before the origin existed record into it.
    final class RequestLog: Sendable {
        let origin = Mutex<LoopbackOrigin?>(nil)
        let flooded = Atomic<Int>(0)
        let connections = Atomic<Int>(0)
        func record(_ text: String) {
            origin.withLock { $0 }?.received.withLock { $0.append(text) }
        }
    }

    /// Reads requests (head + Content-Length body) and answers by path.
    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var buffer = ByteBuffer()
        private let log: RequestLog

        /// Requests answered on this connection.
        private var answered = 0

        init(log: RequestLog) {
            self.log = log
            log.connections.add(1, ordering: .relaxed)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            buffer.writeBuffer(&incoming)
            while let request = takeRequest() {
                log.record(request.text)
                answer(request, context: context)
                if request.text.lowercased().contains("\r\nconnection: close\r\n") {
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                        channel.close(promise: nil)
                    }
                    return
                }
            }
        }

        private struct Request {
            var method: String
            var path: String
            var text: String
            var body: [UInt8]
        }

        private func takeRequest() -> Request? {
            let bytes = Array(buffer.readableBytesView)
            guard let end = bytes.indices.dropLast(3).first(where: { bytes[$0...$0 + 3] == [13, 10, 13, 10] }) else { return nil }
            let head = String(decoding: bytes[..<end], as: UTF8.self)
            var length = 0
            for line in head.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == "content-length" {
                    length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            guard bytes.count >= end + 4 + length else { return nil }
            buffer.moveReaderIndex(forwardBy: end + 4 + length)
            buffer.discardReadBytes()
            let body = Array(bytes[(end + 4)..<(end + 4 + length)])
            let requestLine = head.prefix(while: { $0 != "\r" }).split(separator: " ")
            return Request(
                method: String(requestLine.first ?? ""), path: requestLine.count > 1 ? String(requestLine[1]) : "/",
                text: head + "\r\n\r\n" + String(decoding: body, as: UTF8.self), body: body
            )
        }

        private func answer(_ request: Request, context: ChannelHandlerContext) {
            answered += 1
            let isHEAD = request.method == "HEAD"
            func send(_ text: String, body: [UInt8] = []) {
                var out = context.channel.allocator.buffer(capacity: text.utf8.count + body.count)
                out.writeString(text)
                if !isHEAD { out.writeBytes(body) }
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
            func plain(_ body: [UInt8], status: String = "200 OK", extra: String = "") {
                send("HTTP/1.1 \(status)\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\n\(extra)\r\n", body: body)
            }
            let parts = request.path.split(separator: "/").map(String.init)
            switch parts.first ?? "" {
            case "hello":
                plain(
                    Array("hello from beyond the wall".utf8),
                    extra: "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nX-Origin: yes\r\n"
                )
            case "echo":
                plain(Array(request.text.utf8))
            case "chunked":
                send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
                if !isHEAD { send("4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n") }
            case "big", "slow-big":
                plain([UInt8](repeating: UInt8(ascii: "x"), count: Int(parts.last ?? "") ?? 0))
            case "big-chunked":
                send("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                guard !isHEAD else { return }
                var left = Int(parts.last ?? "") ?? 0
                let piece = [UInt8](repeating: UInt8(ascii: "y"), count: 16384)
                while left > 0 {
                    let count = min(left, piece.count)
                    send(String(count, radix: 16) + "\r\n", body: Array(piece[0..<count]) + [13, 10])
                    left -= count
                }
                send("0\r\n\r\n")
            case "html":
                let page = "<html><head><title>News</title></head><body><p>The \(parts.count > 1 ? parts[1] : "weather") today.</p>"
                    + "<a href=\"http://elsewhere.example/\">away</a> <a href=\"http://open.example/\">open</a></body></html>"
                // `Range: bytes=0-N` is honoured (206), as real servers do.
                if let range = request.text.range(of: "\r\nRange: bytes=0-", options: .caseInsensitive) {
                    let digits = request.text[range.upperBound...].prefix { $0.isNumber }
                    let part = Array(page.utf8.prefix((Int(digits) ?? 0) + 1))
                    send(
                        "HTTP/1.1 206 Partial Content\r\nContent-Type: text/html; charset=utf-8\r\n"
                            + "Content-Range: bytes 0-\(part.count - 1)/\(page.utf8.count)\r\nContent-Length: \(part.count)\r\n\r\n",
                        body: part
                    )
                    return
                }
                send("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(page.utf8.count)\r\n\r\n", body: Array(page.utf8))
            case "flood":
                // Written as fast as the socket takes it, counted as each write completes.
                let total = Int(parts.last ?? "") ?? 0
                send("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(total)\r\n\r\n")
                var piece = context.channel.allocator.buffer(capacity: 65536)
                piece.writeRepeatingByte(UInt8(ascii: "z"), count: 65536)
                let log = self.log
                var left = total
                while left > 0 {
                    let count = min(left, 65536)
                    context.write(wrapOutboundOut(piece.getSlice(at: 0, length: count)!)).whenSuccess {
                        log.flooded.add(count, ordering: .relaxed)
                    }
                    left -= count
                }
                context.flush()
            case "gzip":
                // A page the origin sends compressed whatever it was asked for (some do).
                send(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
                        + "Content-Length: \(LoopbackOrigin.gzippedPage.count)\r\n\r\n",
                    body: LoopbackOrigin.gzippedPage
                )
            case "silent":
                break
            case "hints":
                // 103 Early Hints first (RFC 8297), then the answer.
                send("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
                plain(Array("after the hints".utf8))
            case "once":
                // Kept alive after the first answer, but a later request on the same
                // connection finds it closed, as when a server's keep-alive timeout ends
                // just as the request is sent.
                if answered > 1 {
                    context.close(promise: nil)
                } else {
                    plain(Array("once".utf8))
                }
            case "moved":
                plain([], status: "302 Found", extra: "Location: http://elsewhere.example/\r\n")
            case "nothing":
                send("HTTP/1.1 204 No Content\r\n\r\n")
            case "both-lengths":
                // Framed two ways at once, as a response-splitting attempt would be.
                send("HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nsplit\r\n0\r\n\r\n")
            case "until-close":
                // No length and no chunks: the body ends when the connection does.
                send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end")
                context.close(promise: nil)
            default:
                plain(Array("no such page".utf8), status: "404 Not Found")
            }
        }
    }
}
