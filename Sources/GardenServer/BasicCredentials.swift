import Foundation

/// The name and password of an HTTP Basic `Authorization` or `Proxy-Authorization`
/// field (RFC 7617): `Basic base64(name:password)`, UTF-8.
package struct BasicCredentials: Sendable, Equatable {
    package var name: String
    package var password: [UInt8]

    /// A name and password from a form (the portal's sign-in).
    package init(name: String, password: [UInt8]) {
        self.name = name
        self.password = password
    }

    /// Reads a field value; nil when it is not well-formed Basic credentials.
    package init?(fieldValue: String) {
        let parts = fieldValue.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.count <= 4096, let data = Data(base64Encoded: token) else { return nil }
        let bytes = Array(data)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        guard let name = String(validating: bytes[..<colon], as: UTF8.self), !name.isEmpty else { return nil }
        self.name = name
        self.password = Array(bytes[(colon + 1)...])
    }
}
