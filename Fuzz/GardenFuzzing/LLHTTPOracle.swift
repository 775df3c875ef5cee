import NIOCore
import NIOEmbedded
import NIOHTTP1

/// SwiftNIO's response decoder (llhttp), which the garden's own `UpstreamResponseDecoder`
/// replaced, as an oracle: where both accept an answer they must frame it alike (the same
/// status, fields and body), or one of them would take part of one answer for another.
/// Where only one accepts, they differ in strictness, which is allowed.
public enum LLHTTPOracle {
    /// What llhttp read: the final status, the fields, the body, whether the answer
    /// ended; nil if it refused the bytes.
    public struct Reading: Equatable, Sendable {
        public var status: Int
        public var fields: [String]
        public var body: [UInt8]
        public var ended: Bool

        public init(status: Int, fields: [String], body: [UInt8], ended: Bool) {
            self.status = status
            self.fields = fields
            self.body = body
            self.ended = ended
        }
    }

    public static func read(_ bytes: ArraySlice<UInt8>, toHEAD: Bool) -> Reading? {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        guard (try? channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes))
        )) != nil else { return nil }
        // The decoder learns the request's method from the request going out.
        let request = HTTPRequestHead(version: .http1_1, method: toHEAD ? .HEAD : .GET, uri: "/")
        guard (try? channel.writeOutbound(HTTPClientRequestPart.head(request))) != nil else { return nil }
        var reading: Reading?
        func drain() throws {
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let head):
                    guard head.status.code >= 200 else { continue }
                    guard reading == nil else { throw ChannelError.inappropriateOperationForState }
                    reading = Reading(
                        status: Int(head.status.code), fields: head.headers.map { "\($0.name): \(trimmed($0.value))" }, body: [], ended: false
                    )
                case .body(let part):
                    reading?.body += part.readableBytesView
                case .end:
                    reading?.ended = true
                }
            }
        }
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            try drain()
            // The host closes: an answer that lasts until then ends.
            channel.pipeline.fireChannelInactive()
            try drain()
        } catch {
            return nil
        }
        return reading
    }

    /// The value without spaces and tabs at either end, by its bytes: as Characters, a
    /// space after U+06DD (a prepended mark, one Character with what follows it) would
    /// not come off.
    private static func trimmed(_ value: String) -> String {
        var bytes = Array(value.utf8)[...]
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes.removeFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
