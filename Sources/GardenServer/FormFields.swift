import Foundation

/// The two small grammars a browser's forms speak: cookies (`name=value; name=value`,
/// RFC 6265 §4.2.1) and `application/x-www-form-urlencoded` bodies. Shared by the
/// students' sign-in form on the data plane and the teacher's desk.
package enum FormFields {
    /// The value of the cookie `name` in a `Cookie` field's value, if it is there.
    package static func cookie(_ name: String, in field: String) -> String? {
        for pair in field.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// The fields of a urlencoded body: `+` is a space, `%XX` a byte; a malformed escape
    /// leaves the value empty (never a crash, never a half-decoded value).
    package static func urlEncoded(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    /// A new session, form or CSRF token: 32 random bytes in hex.
    package static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Whether two tokens (CSRF, form) are the same, in time that does not depend on where
    /// they differ.
    package static func sameToken(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
