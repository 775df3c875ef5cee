import Foundation
import GardenPolicy
import NIOCore
import NIOHTTP1

/// What the garden sends to the real host: the method, the path, the fields to forward
/// and the body — and the rules for which fields cross the garden in either direction.
struct UpstreamRequest: Sendable {
    var method: String
    /// The site's name as the browser gave it (for the `Host` field and the messages).
    var host: String
    var port: Int
    /// The origin-form target: path and query.
    var pathAndQuery: String
    var headers: HTTPHeaders
    var body: ByteBuffer?

    /// What `Via` says the garden is (RFC 9110 §7.6.3: protocol version and a pseudonym).
    static let viaValue = "1.1 walled-garden"

    /// Fields that belong to one connection, not to the message (RFC 9110 §7.6.1), and so
    /// never cross a proxy; plus those the garden consumes or sets itself.
    private static let requestFieldsNotForwarded: [StaticString] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "proxy-authenticate", "host", "content-length", "expect", "x-forwarded-for",
    ]
    private static let responseFieldsNotForwarded: [StaticString] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authenticate",
    ]

    /// Whether the field `name` is one of `names` (lower-case), in any case. Compared byte
    /// by byte: every field of every proxied request and answer passes here, and a
    /// lower-cased copy of each name cost a String apiece.
    static func isOne(of names: [StaticString], _ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in names.contains { UnsafeRawBufferPointer(bytes).equalsIgnoringASCIICase($0) } }
    }

    /// `name` is `lowercase` (lower-case ASCII) in any case (the request head parser's
    /// comparison).
    static func sameName(_ name: String, _ lowercase: StaticString) -> Bool {
        var name = name
        return name.withUTF8 { UnsafeRawBufferPointer($0).equalsIgnoringASCIICase(lowercase) }
    }

    /// The fields of a proxy request's head (`raw`, as received and already checked by
    /// `RequestHeadParser`) to send on: hop-by-hop fields and those named in `Connection`
    /// left out, `X-Forwarded-For` as `settings` say, `Via` added when asked for.
    static func forwardedFields(raw: ByteBuffer, settings: UpstreamSettings, clientAddress: String?) -> HTTPHeaders {
        let fields = Self.fields(of: raw)
        let named = Self.connectionOptions(fields)
        var headers = HTTPHeaders()
        var forwardedFor: [String] = []
        var maxForwards: String?
        for (name, value) in fields {
            if sameName(name, "x-forwarded-for") { forwardedFor.append(value) }
            if sameName(name, "max-forwards") { maxForwards = value; continue }
            if isOne(of: requestFieldsNotForwarded, name) || (!named.isEmpty && named.contains(name.lowercased())) { continue }
            headers.add(name: name, value: value)
        }
        switch settings.forwardedFor {
        case .remove:
            break
        case .keep:
            for value in forwardedFor { headers.add(name: "X-Forwarded-For", value: value) }
        case .add:
            let chain = forwardedFor + [clientAddress ?? "unknown"]
            headers.add(name: "X-Forwarded-For", value: chain.joined(separator: ", "))
        }
        // Max-Forwards counts down at each proxy (RFC 9110 §7.6.2); 0 is answered by the
        // garden itself before it gets here.
        if let maxForwards, let count = Int(maxForwards), count > 0 {
            headers.add(name: "Max-Forwards", value: String(count - 1))
        }
        if settings.via { headers.add(name: "Via", value: viaValue) }
        return headers
    }

    /// `Max-Forwards` of a request, if it carries one that is a number.
    static func maxForwards(raw: ByteBuffer) -> Int? {
        fields(of: raw).last { sameName($0.name, "max-forwards") }.flatMap { Int($0.value) }
    }

    /// The header lines of the real host's answer to pass to the browser: hop-by-hop
    /// fields and those named in its `Connection` left out, `Via` added when asked for.
    /// `Content-Length` is left to the caller, which frames the body; `omitting` names
    /// further fields (lower-case) to leave out.
    static func returnedFieldLines(_ headers: HTTPHeaders, via: Bool, omitting: Set<String> = []) -> String {
        let fields = headers.map { (name: $0.name, value: $0.value) }
        let named = connectionOptions(fields)
        var lines = ""
        for (name, value) in fields {
            if isOne(of: responseFieldsNotForwarded, name) || sameName(name, "content-length") { continue }
            if !named.isEmpty || !omitting.isEmpty {
                let lowered = name.lowercased()
                if named.contains(lowered) || omitting.contains(lowered) { continue }
            }
            lines += name
            lines += ": "
            lines += value
            lines += "\r\n"
        }
        if via { lines += "Via: \(viaValue)\r\n" }
        return lines
    }

    /// Field names listed in `Connection` (lower-cased): hop-by-hop by the sender's word.
    private static func connectionOptions(_ fields: [(name: String, value: String)]) -> Set<String> {
        var named = Set<String>()
        for (name, value) in fields where sameName(name, "connection") {
            for option in value.utf8.split(separator: UInt8(ascii: ",")) {
                named.insert(String(decoding: trimmed(option), as: UTF8.self).lowercased())
            }
        }
        return named
    }

    /// The name/value pairs of a checked request head, in order.
    private static func fields(of raw: ByteBuffer) -> [(name: String, value: String)] {
        let text = String(buffer: raw)
        var fields: [(name: String, value: String)] = []
        // "\r\n" is one Character in Swift: split on the line feeds of the UTF-8 bytes.
        for line in text.utf8.split(separator: UInt8(ascii: "\n")).dropFirst() {
            var bytes = line[...]
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: bytes[..<colon], as: UTF8.self)
            let value = String(decoding: trimmed(bytes[bytes.index(after: colon)...]), as: UTF8.self)
            fields.append((name, value))
        }
        return fields
    }

    /// `bytes` without the spaces and tabs around them (optional whitespace, RFC 9110 §5.6.3).
    private static func trimmed<Bytes: BidirectionalCollection>(_ bytes: Bytes) -> Bytes.SubSequence where Bytes.Element == UInt8 {
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return bytes[bytes.endIndex...]
        }
        return bytes[first...last]
    }
}
