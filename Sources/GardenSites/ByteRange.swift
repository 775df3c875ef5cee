/// A single `Range: bytes=...` request resolved against a representation's length
/// (RFC 9110 §14.1–14.2).
public enum ByteRange: Sendable, Equatable {
    /// Serve the whole representation with 200: no Range, a unit other than bytes, a
    /// malformed header (which the RFC says to ignore), or several ranges (which the
    /// RFC allows a server to answer in full).
    case whole
    /// Serve `lowerBound...upperBound` (inclusive) with 206 Partial Content.
    case partial(ClosedRange<Int>)
    /// Nothing of the representation is in range: 416 with `Content-Range: bytes */length`.
    case unsatisfiable

    /// Resolves a `Range` header value for a representation of `length` bytes.
    public static func resolve(_ header: String?, length: Int) -> ByteRange {
        guard let header else { return .whole }
        let trimmed = header.trimmingASCIISpaces()
        guard trimmed.count > 6, trimmed.prefix(6).lowercased() == "bytes=" else { return .whole }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false)
        guard specs.count == 1 else {
            // Several ranges are valid but answered whole; a malformed list is ignored too.
            return .whole
        }
        let spec = specs[0].trimmingASCIISpaces()
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        guard first.allSatisfy(\.isASCIIDigitCharacter), last.allSatisfy(\.isASCIIDigitCharacter),
              !(first.isEmpty && last.isEmpty) else { return .whole }

        if first.isEmpty {
            // Suffix range: the last N bytes. Absurdly long numbers mean "everything".
            let suffix = Int(last) ?? Int.max
            guard suffix > 0, length > 0 else { return .unsatisfiable }
            return .partial(max(0, length - suffix)...(length - 1))
        }
        guard let start = Int(first) else { return .unsatisfiable }
        let end: Int
        if last.isEmpty {
            end = length - 1
        } else {
            // An end past the representation is clamped; an end before the start is invalid, so ignored.
            let requested = Int(last) ?? Int.max
            guard requested >= start else { return .whole }
            end = min(requested, length - 1)
        }
        guard start < length else { return .unsatisfiable }
        return .partial(start...end)
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's OWS).
    public func trimmingASCIISpaces() -> SubSequence {
        var start = startIndex
        var end = endIndex
        while start < end, self[start] == " " || self[start] == "\t" { start = index(after: start) }
        while end > start, self[index(before: end)] == " " || self[index(before: end)] == "\t" { end = index(before: end) }
        return self[start..<end]
    }
}
