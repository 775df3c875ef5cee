// nio-floor: the least a SwiftNIO server can do per request, for `static-vs-nginx.sh`.
//
// It answers every request on its connections with the same bytes, read once from a
// file (a whole response: head and body, as the garden sent it), on the garden's own
// event-loop set-up: a loop per core, one handler per connection, no-delay sockets, 16 reads
// per wake-up. It reads no request line, no header and no policy: it only counts the
// requests' ends (`\r\n\r\n`) to answer each once. What it reaches against nginx is the
// ceiling any server built on SwiftNIO's channels has on this machine, the garden
// included; the gap between it and the garden is the garden's own work.
//
//   nio-floor PORT ANSWER-FILE

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Answers each request end it reads with `answer`, flushing once per batch of reads.
final class CannedAnswerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let answer: ByteBuffer
    /// How much of `\r\n\r\n` the bytes read so far end with (a request's end may span reads).
    private var matched = 0
    private var wrote = false

    init(answer: ByteBuffer) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        var ends = 0
        bytes.withUnsafeReadableBytes { raw in
            for byte in raw {
                let expected: UInt8 = matched % 2 == 0 ? 13 : 10
                if byte == expected {
                    matched += 1
                    if matched == 4 { ends += 1; matched = 0 }
                } else {
                    matched = byte == 13 ? 1 : 0
                }
            }
        }
        for _ in 0..<ends { context.write(wrapOutboundOut(answer), promise: nil) }
        if ends > 0 { wrote = true }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard wrote else { return }
        wrote = false
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The whole content of the file at `path`.
func readWhole(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var content: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        content += chunk[0..<count]
    }
    return content
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[1]), let content = readWhole(arguments[2]), !content.isEmpty else {
    print("usage: nio-floor PORT ANSWER-FILE (a whole HTTP response: head and body)")
    exit(2)
}
var answer = ByteBufferAllocator().buffer(capacity: content.count)
answer.writeBytes(content)
let cannedAnswer = answer

// The garden's group: the singleton, a loop per core.
let server = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .serverChannelOption(.backlog, value: 512)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.maxMessagesPerRead, value: 16)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(CannedAnswerHandler(answer: cannedAnswer))
        }
    }
    .bind(host: "127.0.0.1", port: port)
    .wait()
try server.closeFuture.wait()
