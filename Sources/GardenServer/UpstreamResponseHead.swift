import NIOCore

/// The head of a real host's answer as `UpstreamResponseDecoder` read it: the status,
/// the framing it worked out, and the field lines kept as the bytes they came in, with
/// where each name and value lies. The garden passes most fields on as they are, so it
/// makes no `String` per name and value (SwiftNIO's decoder made two per field: most of
/// its cost per fetch, issue 16).
package struct UpstreamResponseHead: Sendable {
    /// Where one field's name and value (without the whitespace around it) lie in `fieldBytes`.
    struct FieldSpan: Sendable, Equatable {
        var nameStart: Int32
        var nameEnd: Int32
        var valueStart: Int32
        var valueEnd: Int32
    }

    /// The status code (three digits).
    package var status: Int
    /// The reason phrase as sent (possibly empty; `GardenHTTPHandler.safePhrase` checks it
    /// before it is repeated).
    package var reasonPhrase: String
    /// 0 for an HTTP/1.0 answer, 1 for HTTP/1.1 (or a later 1.x).
    package var minorVersion: Int
    /// The body's length as announced (`Content-Length`), checked: digits only, and the
    /// same in every field that gives it.
    package var contentLength: Int?
    /// Both ends keep the connection open after this answer (the host's `Connection`
    /// field and version, and a body whose end is not the connection's).
    package var keepAlive: Bool
    /// The field lines, request line and blank line excluded.
    var fieldBytes: ByteBuffer
    var fields: [FieldSpan]

    /// How many field lines the head has.
    package var fieldCount: Int { fields.count }

    /// Calls `body` with the name and the value of each field, in order.
    package func forEachField(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        fieldBytes.withUnsafeReadableBytes { bytes in
            for span in fields {
                body(
                    UnsafeRawBufferPointer(rebasing: bytes[Int(span.nameStart)..<Int(span.nameEnd)]),
                    UnsafeRawBufferPointer(rebasing: bytes[Int(span.valueStart)..<Int(span.valueEnd)])
                )
            }
        }
    }

    /// The value of the first field named `name` (lower-case ASCII), in any case.
    package func value(of name: StaticString) -> String? {
        var found: String?
        forEachField { fieldName, value in
            if found == nil, fieldName.equalsIgnoringASCIICase(name) { found = String(decoding: value, as: UTF8.self) }
        }
        return found
    }

    /// Whether a field is named `name` (lower-case ASCII), in any case.
    package func contains(_ name: StaticString) -> Bool {
        var found = false
        forEachField { fieldName, _ in
            if !found, fieldName.equalsIgnoringASCIICase(name) { found = true }
        }
        return found
    }

    /// The fields as (name, value) strings, in order: for tests and messages.
    package var fieldPairs: [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        forEachField { name, value in
            pairs.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return pairs
    }
}
