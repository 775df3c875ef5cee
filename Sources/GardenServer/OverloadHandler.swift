import NIOCore

/// Answers a connection the garden will not serve and closes it: beyond the connection
/// limits, 503; on a listener that is not for this client (`clients:`), 403.
///
/// The close is a lingering one, as nginx's `lingering_close`: the garden closes its own
/// side once the 503 is written and reads (and drops) what the client still sends, for
/// at most `linger`. A client's request is often on its way as the 503 leaves; closing
/// the socket with those bytes unread would reset the connection, and the client would
/// lose the 503 and see only a broken connection.
final class OverloadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How long the client has to finish sending and close its side.
    static let linger: TimeAmount = .seconds(1)
    /// How much is read and dropped meanwhile: a request or two. A client that sends more
    /// (a pipelined flood) is closed at once; it was not going to read the 503 anyway.
    static let drainLimit = 64 * 1024

    private var drained = 0

    private let message: String
    private let status: String
    private var timer: Scheduled<Void>?

    init(message: String = "The garden is busy; try again in a moment.\n", status: String = "503 Service Unavailable") {
        self.message = message
        self.status = status
    }

    func channelActive(context: ChannelHandlerContext) {
        let body = message
        var buffer = context.channel.allocator.buffer(capacity: 256)
        buffer.writeString(
            "HTTP/1.1 \(status)\r\nServer: walled-garden\r\n" + (status.hasPrefix("503") ? "Retry-After: 1\r\n" : "")
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
                + body
        )
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
        timer = context.eventLoop.scheduleTask(in: Self.linger) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    /// What the client sends is dropped: it is not answered.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        drained += unwrapInboundIn(data).readableBytes
        if drained > Self.drainLimit { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    /// A reset or a failed write: the connection is gone either way.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
