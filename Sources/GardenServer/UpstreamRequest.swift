import GardenPolicy
import NIOCore

/// What the garden sends to the real host: the method, the path, the fields to forward
/// and the body — and the rules for which fields cross the garden in either direction.
struct UpstreamRequest: Sendable {
    var method: String
    /// The site's name as the browser gave it (for the `Host` field and the messages).
    var host: String
    var port: Int
    /// The origin-form target: path and query.
    var pathAndQuery: String
    /// The fields to send on, as the header lines they go out as (`Name: value` and CRLF
    /// each), from the browser's head (`forwardedFields`).
    var fieldLines: ByteBuffer
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
    /// Left out when the censor must read the whole page: it is asked for uncompressed
    /// and whole (a part of a page would slip forbidden words past the censor).
    private static let fieldsNotForwardedForAWholePage: [StaticString] = ["accept-encoding", "range", "if-range"]

    /// The head as it goes to the host, request line to blank line: the origin-form
    /// target, `Host` naming the site, the forwarded fields, and the body's length when
    /// it has one. Every part was checked on the way in (`RequestHeadParser`,
    /// `RequestTarget`), so it is written as bytes, not through `HTTPHeaders` and an encoder.
    func wireHead(allocator: ByteBufferAllocator) -> ByteBuffer {
        var head = allocator.buffer(capacity: method.utf8.count + pathAndQuery.utf8.count + host.utf8.count + fieldLines.readableBytes + 64)
        head.writeString(method)
        head.writeStaticString(" ")
        head.writeString(pathAndQuery)
        head.writeStaticString(" HTTP/1.1\r\nHost: ")
        let isIPv6 = host.utf8.contains(UInt8(ascii: ":"))
        if isIPv6 { head.writeStaticString("[") }
        head.writeString(host)
        if isIPv6 { head.writeStaticString("]") }
        if port != 80 {
            head.writeStaticString(":")
            head.writeString(String(port))
        }
        head.writeStaticString("\r\n")
        head.writeImmutableBuffer(fieldLines)
        if let body {
            head.writeStaticString("Content-Length: ")
            head.writeString(String(body.readableBytes))
            head.writeStaticString("\r\n")
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            head.writeStaticString("Content-Length: 0\r\n")
        }
        head.writeStaticString("\r\n")
        return head
    }

    /// The header lines of a proxy request's head (`raw`, as received and already checked
    /// by `RequestHeadParser`) to send on: hop-by-hop fields and those named in
    /// `Connection` left out, `X-Forwarded-For` as `settings` say, `Via` added when asked
    /// for. With `wholePage` (the censor reads the answer), the page is asked for
    /// uncompressed and whole. The lines are copied as bytes, not made into Strings.
    static func forwardedFields(raw: ByteBuffer, settings: UpstreamSettings, clientAddress: String?, wholePage: Bool = false) -> ByteBuffer {
        var lines = ByteBufferAllocator().buffer(capacity: raw.readableBytes + 64)
        var named = Set<String>()
        var forwardedFor: [String] = []
        var maxForwards: String?
        forEachField(of: raw) { name, value in
            if name.equalsIgnoringASCIICase("connection") {
                named.formUnion(connectionOptions(value, alreadyLeftOut: requestFieldsNotForwarded))
            }
        }
        forEachField(of: raw) { name, value in
            if name.equalsIgnoringASCIICase("x-forwarded-for") { forwardedFor.append(String(decoding: value, as: UTF8.self)) }
            if name.equalsIgnoringASCIICase("max-forwards") { maxForwards = String(decoding: value, as: UTF8.self); return }
            if requestFieldsNotForwarded.contains(where: name.equalsIgnoringASCIICase) { return }
            if wholePage, fieldsNotForwardedForAWholePage.contains(where: name.equalsIgnoringASCIICase) { return }
            if !named.isEmpty, named.contains(String(decoding: name, as: UTF8.self).lowercased()) { return }
            writeFieldLine(name, value, into: &lines)
        }
        func add(_ name: StaticString, _ value: String) {
            lines.writeStaticString(name)
            lines.writeStaticString(": ")
            lines.writeString(value)
            lines.writeStaticString("\r\n")
        }
        switch settings.forwardedFor {
        case .remove:
            break
        case .keep:
            for value in forwardedFor { add("X-Forwarded-For", value) }
        case .add:
            add("X-Forwarded-For", (forwardedFor + [clientAddress ?? "unknown"]).joined(separator: ", "))
        }
        // Max-Forwards counts down at each proxy (RFC 9110 §7.6.2); 0 is answered by the
        // garden itself before it gets here.
        if let maxForwards, let count = Int(maxForwards), count > 0 { add("Max-Forwards", String(count - 1)) }
        if settings.via { add("Via", viaValue) }
        if wholePage { add("Accept-Encoding", "identity") }
        return lines
    }

    /// Writes the field line `name: value` and its CRLF in one go: each write to a
    /// `ByteBuffer` is an access to its storage checked at run time, and four writes per
    /// field made some 56 of them per fetch.
    static func writeFieldLine(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        let length = name.count + value.count + 4
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            var end = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
                (target.baseAddress! + end).copyMemory(from: source, byteCount: bytes.count)
                end += bytes.count
            }
            put(name)
            target[end] = UInt8(ascii: ":")
            target[end + 1] = UInt8(ascii: " ")
            end += 2
            put(value)
            target[end] = UInt8(ascii: "\r")
            target[end + 1] = UInt8(ascii: "\n")
            return end + 2
        }
    }

    /// The same for a field held as strings: through their own bytes when they have them
    /// in one piece (no copy), else piece by piece.
    static func writeFieldLine(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        let written = name.utf8.withContiguousStorageIfAvailable { name in
            value.utf8.withContiguousStorageIfAvailable { value in
                writeFieldLine(UnsafeRawBufferPointer(name), UnsafeRawBufferPointer(value), into: &buffer)
                return true
            } ?? false
        } ?? false
        guard !written else { return }
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    /// `Max-Forwards` of a request, if it carries one that is a number.
    static func maxForwards(raw: ByteBuffer) -> Int? {
        var last: Int?
        forEachField(of: raw) { name, value in
            if name.equalsIgnoringASCIICase("max-forwards") { last = Int(String(decoding: value, as: UTF8.self)) }
        }
        return last
    }

    /// Writes the header lines of the real host's answer to pass to the browser into
    /// `buffer`: hop-by-hop fields and those named in its `Connection` left out, `Via`
    /// added when asked for. `Content-Length` is left to the caller, which frames the
    /// body; `omitting` names further fields (lower-case) to leave out.
    static func writeReturnedFields(_ head: UpstreamResponseHead, via: Bool, omitting: Set<String> = [], into buffer: inout ByteBuffer) {
        var named = Set<String>()
        head.forEachField { name, value in
            if name.equalsIgnoringASCIICase("connection") {
                named.formUnion(connectionOptions(value, alreadyLeftOut: responseFieldsNotForwarded))
            }
        }
        head.forEachField { name, value in
            if responseFieldsNotForwarded.contains(where: name.equalsIgnoringASCIICase) || name.equalsIgnoringASCIICase("content-length") {
                return
            }
            if !named.isEmpty || !omitting.isEmpty {
                let lowered = String(decoding: name, as: UTF8.self).lowercased()
                if named.contains(lowered) || omitting.contains(lowered) { return }
            }
            writeFieldLine(name, value, into: &buffer)
        }
        if via {
            buffer.writeStaticString("Via: ")
            buffer.writeString(viaValue)
            buffer.writeStaticString("\r\n")
        }
    }

    /// The field names a `Connection` field's value lists (lower-cased): hop-by-hop by
    /// the sender's word. Names `alreadyLeftOut` lists are not kept: nearly every
    /// answer says `Connection: keep-alive`, and an empty set spares comparing each
    /// field's name with it.
    private static func connectionOptions(_ value: UnsafeRawBufferPointer, alreadyLeftOut: [StaticString]) -> Set<String> {
        var named = Set<String>()
        for option in FieldValueItems(value) where !alreadyLeftOut.contains(where: option.equalsIgnoringASCIICase) {
            named.insert(String(decoding: option, as: UTF8.self).lowercased())
        }
        return named
    }

    /// Calls `body` with the name and the value (without the whitespace around it) of
    /// each field of a checked request head, in order.
    private static func forEachField(of raw: ByteBuffer, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        raw.withUnsafeReadableBytes { bytes in
            // The request line is not a field.
            guard var lineStart = bytes.index(of: .lf, from: 0).map({ $0 + 1 }) else { return }
            while lineStart < bytes.count {
                var lineEnd = bytes.index(of: .lf, from: lineStart) ?? bytes.count
                let next = lineEnd + 1
                if lineEnd > lineStart, bytes[lineEnd - 1] == .cr { lineEnd -= 1 }
                defer { lineStart = next }
                guard let colon = bytes.index(of: .colon, from: lineStart, to: lineEnd) else { continue }
                body(
                    UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon]),
                    UnsafeRawBufferPointer(rebasing: bytes[bytes.trimmingWhitespace(colon + 1..<lineEnd)])
                )
            }
        }
    }
}
