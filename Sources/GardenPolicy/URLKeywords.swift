import Foundation

/// Helpers for the `url_keywords` condition.
enum URLKeywords {
    /// Whether any of the (lower-cased) words occurs in the request's host, path or query.
    static func anyIn(_ request: RequestFacts, of words: [String]) -> Bool {
        let haystack = (request.host + request.path + " " + decode(request.query)).lowercased()
        return words.contains { haystack.contains($0) }
    }

    /// Percent-decodes a query (`+` as space), keeping malformed escapes as they are, so
    /// `q=%EA%B9%80%EC%B9%98` is searched as `q=김치`.
    static func decode(_ query: String) -> String {
        guard query.contains("%") || query.contains("+") else { return query }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(query.utf8.count)
        var iterator = Array(query.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                      let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
