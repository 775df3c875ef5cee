import Foundation

/// The host a link or resource address leads to, when it leaves the page's own site:
/// `http://h/...`, `https://h/...` and `//h/...` name a host; relative addresses,
/// fragments and other schemes (`mailto:`, `data:`) stay where they are.
enum LinkTarget {
    /// The lower-cased host of an absolute or protocol-relative address; nil otherwise.
    static func host(of address: String) -> String? {
        let trimmed = address.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        var rest: Substring
        let lowered = trimmed.prefix(8).lowercased()
        if lowered.hasPrefix("http://") {
            rest = trimmed.dropFirst(7)
        } else if lowered.hasPrefix("https://") {
            rest = trimmed.dropFirst(8)
        } else if trimmed.hasPrefix("//") {
            rest = trimmed.dropFirst(2)
        } else {
            return nil
        }
        // The authority ends at the first / ? # ; drop any user info and the port.
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "\\" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("[") {
            // An IPv6 literal: keep the brackets' content.
            guard let close = rest.firstIndex(of: "]") else { return nil }
            return String(rest[rest.index(after: rest.startIndex)..<close]).lowercased()
        }
        if let colon = rest.firstIndex(of: ":") { rest = rest[..<colon] }
        var host = rest.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        return host.isEmpty ? nil : host
    }

    /// The addresses in a `srcset` value (each candidate's first word).
    static func srcsetAddresses(_ value: String) -> [String] {
        value.split(separator: ",").compactMap { candidate in
            candidate.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.map(String.init)
        }
    }

    /// The addresses inside `url(...)` in a `style` value.
    static func cssURLs(_ value: String) -> [String] {
        var found: [String] = []
        var rest = Substring(value)
        while let start = rest.range(of: "url(", options: .caseInsensitive) {
            rest = rest[start.upperBound...]
            guard let close = rest.firstIndex(of: ")") else { break }
            var inner = rest[..<close].trimmingCharacters(in: .whitespaces)
            if inner.hasPrefix("\"") || inner.hasPrefix("'") { inner = String(inner.dropFirst().dropLast()) }
            found.append(inner)
            rest = rest[rest.index(after: close)...]
        }
        return found
    }
}
