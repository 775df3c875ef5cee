import NIOCore
import NIOHTTP1

/// The outbound end of an upstream connection's pipeline: the request goes out as the
/// bytes `UpstreamRequest.wireHead` wrote (the head) and the body's bytes, carried as
/// `.body` parts; the `.head` part before them only tells the response decoder, which
/// sees the parts go by, whether a body is to be expected, and is not written; `.end`
/// writes nothing. In place of SwiftNIO's request encoder and header validator: the
/// head was checked when the browser's request was read, and a second pass over
/// `HTTPHeaders` and a re-encoding cost more than the rest of the request's way out.
final class UpstreamRequestWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head, .end:
            promise?.succeed()
        case .body(let bytes):
            context.write(wrapOutboundOut(bytes), promise: promise)
        }
    }
}
