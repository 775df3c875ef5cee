import Foundation
import GardenServer

/// The lesson guides and worksheets (Markdown) as HTML for the desk, printable: the
/// CommonMark a teacher writes in them — headings, paragraphs, lists (with indented
/// paragraphs in an item), task boxes, pipe tables, fenced code, block quotes, and
/// `code`, **bold**, *emphasis* and [links](...) — with every character escaped. Not a
/// full CommonMark: what the packs use, read the way GitHub shows it.
public enum MarkdownPage {
    /// `markdown` as an HTML body fragment.
    public static func html(_ markdown: String) -> String {
        var renderer = Renderer()
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            renderer.take(String(line))
        }
        renderer.finish()
        return renderer.output
    }

    private struct Renderer {
        var output = ""
        var paragraph: [String] = []
        var list: (ordered: Bool, items: [[String]])?
        var table: [[String]] = []
        var code: [String]?
        var quote: [String] = []

        mutating func take(_ line: String) {
            if var lines = code {
                if line.hasPrefix("```") {
                    output += "<pre><code>\(HTMLText.escape(lines.joined(separator: "\n")))</code></pre>\n"
                    code = nil
                } else {
                    lines.append(line)
                    code = lines
                }
                return
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                flush()
                code = []
                return
            }
            if trimmed.isEmpty {
                // A blank line inside a list item keeps the item open (an indented paragraph may follow).
                if list != nil { list!.items[list!.items.count - 1].append("") } else { flush() }
                return
            }
            if let (ordered, text) = listItem(line) {
                if list == nil || list!.ordered != ordered { flush(); list = (ordered, []) }
                list!.items.append([text])
                return
            }
            if list != nil, line.hasPrefix("  ") {
                list!.items[list!.items.count - 1].append(trimmed)
                return
            }
            if trimmed.hasPrefix("|") {
                if table.isEmpty { flush() }
                table.append(cells(trimmed))
                return
            }
            if trimmed.hasPrefix(">") {
                if quote.isEmpty { flush() }
                quote.append(String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces))
                return
            }
            if let level = heading(trimmed) {
                flush()
                let text = trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                output += "<h\(level)>\(inline(text))</h\(level)>\n"
                return
            }
            if trimmed == "---" || trimmed == "***" {
                flush()
                output += "<hr>\n"
                return
            }
            if list != nil || !table.isEmpty || !quote.isEmpty { flush() }
            paragraph.append(trimmed)
        }

        mutating func finish() {
            if let lines = code { output += "<pre><code>\(HTMLText.escape(lines.joined(separator: "\n")))</code></pre>\n" }
            code = nil
            flush()
        }

        mutating func flush() {
            if !paragraph.isEmpty {
                output += "<p>\(inline(paragraph.joined(separator: " ")))</p>\n"
                paragraph = []
            }
            if let open = list {
                let tag = open.ordered ? "ol" : "ul"
                output += "<\(tag)>\n"
                for item in open.items {
                    // An item's lines, split into paragraphs at blank lines.
                    let parts = item.split(separator: "", omittingEmptySubsequences: true).map { $0.joined(separator: " ") }
                    let body = parts.count <= 1 ? inline(parts.first ?? "") : parts.map { "<p>\(inline($0))</p>" }.joined()
                    output += "<li>\(body)</li>\n"
                }
                output += "</\(tag)>\n"
                list = nil
            }
            if !table.isEmpty {
                let isRule = { (row: [String]) in row.allSatisfy { $0.allSatisfy { "-: ".contains($0) } && !$0.isEmpty } }
                var rows = table
                var header: [String]?
                if rows.count >= 2, isRule(rows[1]) {
                    header = rows[0]
                    rows.removeFirst(2)
                }
                output += "<table>\n"
                if let header { output += "<tr>" + header.map { "<th>\(inline($0))</th>" }.joined() + "</tr>\n" }
                for row in rows { output += "<tr>" + row.map { "<td>\(inline($0))</td>" }.joined() + "</tr>\n" }
                output += "</table>\n"
                table = []
            }
            if !quote.isEmpty {
                output += "<blockquote><p>\(inline(quote.joined(separator: " ")))</p></blockquote>\n"
                quote = []
            }
        }

        func heading(_ line: String) -> Int? {
            let hashes = line.prefix { $0 == "#" }.count
            guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
            return hashes
        }

        /// `- text`, `* text`, `1. text`: whether ordered, and the text.
        func listItem(_ line: String) -> (Bool, String)? {
            let trimmed = line.drop { $0 == " " }
            guard line.count - trimmed.count < 2 else { return nil }
            if trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ") { return (false, String(trimmed.dropFirst(2))) }
            let digits = trimmed.prefix { $0.isNumber }
            if !digits.isEmpty, trimmed.dropFirst(digits.count).hasPrefix(". ") {
                return (true, String(trimmed.dropFirst(digits.count + 2)))
            }
            return nil
        }

        /// A table row's cells (`| a | b |`).
        func cells(_ line: String) -> [String] {
            var inner = Substring(line)
            if inner.hasPrefix("|") { inner = inner.dropFirst() }
            if inner.hasSuffix("|") { inner = inner.dropLast() }
            return inner.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Inline Markdown, escaped: `code`, **bold**, *emphasis*, [text](address), task boxes.
    static func inline(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        if rest.hasPrefix("[ ] ") {
            result += "☐ "
            rest = rest.dropFirst(4)
        } else if rest.hasPrefix("[x] ") || rest.hasPrefix("[X] ") {
            result += "☑ "
            rest = rest.dropFirst(4)
        }
        while let first = rest.first {
            if first == "`", let end = rest.dropFirst().firstIndex(of: "`") {
                result += "<code>\(HTMLText.escape(String(rest[rest.index(after: rest.startIndex)..<end])))</code>"
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**") {
                result += "<strong>\(inline(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound])))</strong>"
                rest = rest[end.upperBound...]
            } else if first == "*", let end = rest.dropFirst().firstIndex(of: "*"), end > rest.index(after: rest.startIndex) {
                result += "<em>\(inline(String(rest[rest.index(after: rest.startIndex)..<end])))</em>"
                rest = rest[rest.index(after: end)...]
            } else if first == "[", let close = rest.firstIndex(of: "]"), rest[close...].dropFirst().first == "(",
                      let end = closingParenthesis(in: rest[rest.index(close, offsetBy: 2)...]) {
                let label = String(rest[rest.index(after: rest.startIndex)..<close])
                let address = String(rest[rest.index(close, offsetBy: 2)..<end])
                let safe = address.hasPrefix("http://") || address.hasPrefix("https://") || address.hasPrefix("/") || address.hasPrefix("#")
                result += safe ? "<a href=\"\(HTMLText.escape(address))\">\(inline(label))</a>" : inline(label)
                rest = rest[rest.index(after: end)...]
            } else {
                result += HTMLText.escape(String(first))
                rest = rest.dropFirst()
            }
        }
        return result
    }

    /// The `)` that closes a link's address, counting the parentheses inside it (as CommonMark does).
    static func closingParenthesis(in text: Substring) -> Substring.Index? {
        var depth = 0
        for index in text.indices {
            switch text[index] {
            case "(": depth += 1
            case ")":
                if depth == 0 { return index }
                depth -= 1
            default: break
            }
        }
        return nil
    }
}
