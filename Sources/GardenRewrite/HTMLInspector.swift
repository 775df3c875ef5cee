import CLibXML2
import Foundation

/// What a page refers to and says, read with libxml2: the addresses in its links and
/// resources (with line numbers), the problems the parser met, and its visible text.
/// For `lint-sites`, `content_keywords` and `reveal`.
public struct PageInspection: Sendable, Equatable {
    /// One address in the page.
    public struct Reference: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// Followed when clicked or submitted (`a href`, `form action`, ...).
            case navigation
            /// Loaded with the page (`img src`, `link href`, `style` url(), ...).
            case resource
        }

        public var kind: Kind
        public var element: String
        public var attribute: String
        public var address: String
        public var line: Int
    }

    /// A problem the HTML parser reported.
    public struct Problem: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var message: String
    }

    public var references: [Reference] = []
    public var problems: [Problem] = []
    /// The text a reader sees (title and body, without scripts and styles), spaces collapsed.
    public var text = ""
}

public enum HTMLInspector {
    /// Reads a page. Unknown-tag reports are left out: libxml2 2.9 predates HTML5's
    /// `<main>`, `<nav>`, `<header>`, ... and calls them invalid.
    public static func inspect(_ html: some Collection<UInt8>) -> PageInspection {
        let collector = ProblemCollector()
        let bytes = Array(html)
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NONET.rawValue | HTML_PARSE_NODEFDTD.rawValue)
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }
        xmlSetStructuredErrorFunc(unmanaged.toOpaque()) { context, error in
            guard let context, let error else { return }
            let collector = Unmanaged<ProblemCollector>.fromOpaque(context).takeUnretainedValue()
            let code = Int(error.pointee.code)
            guard code != Int(XML_HTML_UNKNOWN_TAG.rawValue) else { return }
            let message = error.pointee.message.map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "parse error"
            collector.problems.append(.init(line: Int(error.pointee.line), column: Int(error.pointee.int2), message: message))
        }
        defer { xmlSetStructuredErrorFunc(nil, nil) }
        var inspection = PageInspection()
        guard let document = parse(bytes, options: options) else { return inspection }
        defer { xmlFreeDoc(document) }
        var text: [String] = []
        walk(xmlDocGetRootElement(document)) { node, untouched in
            if node.pointee.type == XML_ELEMENT_NODE { addReferences(of: node, to: &inspection) }
            if let words = wordsText(node, untouched: untouched) { text.append(words) }
        }
        inspection.problems = collector.problems
        inspection.text = collapsedText(text)
        return inspection
    }

    /// `bytes` read by libxml2's HTML parser as UTF-8 (nil when empty or unreadable).
    static func parse(_ bytes: [UInt8], options: Int32) -> htmlDocPtr? {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                chars.isEmpty ? nil : htmlReadMemory(chars.baseAddress, Int32(clamping: chars.count), nil, "UTF-8", options)
            }
        }
    }

    /// Calls `body` with every node under `root`, depth-first in document order, and
    /// whether it stands inside an element whose text is not the page's words
    /// (`HTMLRewriter.untouchedText`: script, style, ...). Iterative: a hostile page may
    /// nest deeply.
    static func walk(_ root: xmlNodePtr?, _ body: (xmlNodePtr, _ untouched: Bool) -> Void) {
        var stack: [(node: xmlNodePtr, untouched: Bool)] = []
        if let root { stack.append((root, false)) }
        var children: [xmlNodePtr] = []
        while let (node, untouched) = stack.popLast() {
            body(node, untouched)
            guard node.pointee.type == XML_ELEMENT_NODE else { continue }
            // (Element names are short: a String of one is not allocated.)
            let childUntouched = untouched || HTMLRewriter.untouchedText.contains(node.pointee.name.map { String(cString: $0) } ?? "")
            children.removeAll(keepingCapacity: true)
            var child = node.pointee.children
            while let current = child {
                children.append(current)
                child = current.pointee.next
            }
            for child in children.reversed() { stack.append((child, childUntouched)) }
        }
    }

    /// The text of `node`, if it is a text node of the page's words.
    static func wordsText(_ node: xmlNodePtr, untouched: Bool) -> String? {
        guard !untouched, node.pointee.type == XML_TEXT_NODE, let content = node.pointee.content else { return nil }
        return String(cString: content)
    }

    private final class ProblemCollector {
        var problems: [PageInspection.Problem] = []
    }

    /// The addresses element `node` refers to: links followed, resources loaded.
    private static func addReferences(of node: xmlNodePtr, to inspection: inout PageInspection) {
        let name = node.pointee.name.map { String(cString: $0) } ?? ""
        let line = Int(xmlGetLineNo(node))
        for attribute in HTMLRewriter.navigations[name] ?? [] {
            if let value = attributeValue(node, attribute) {
                inspection.references.append(.init(kind: .navigation, element: name, attribute: attribute, address: value, line: line))
            }
        }
        for attribute in HTMLRewriter.resources[name] ?? [] {
            guard let value = attributeValue(node, attribute) else { continue }
            if name == "link", let rel = attributeValue(node, "rel")?.lowercased(), !Self.loadingRels.contains(where: rel.contains) {
                // <link rel="canonical"> and the like are not loaded.
                continue
            }
            let addresses = attribute == "srcset" ? LinkTarget.srcsetAddresses(value) : [value]
            for address in addresses {
                inspection.references.append(.init(kind: .resource, element: name, attribute: attribute, address: address, line: line))
            }
        }
        if let style = attributeValue(node, "style") {
            for address in LinkTarget.cssURLs(style) {
                inspection.references.append(.init(kind: .resource, element: name, attribute: "style", address: address, line: line))
            }
        }
    }

    /// `rel` values whose `href` the browser loads.
    static let loadingRels = ["stylesheet", "icon", "preload", "prefetch", "modulepreload", "manifest", "apple-touch-icon"]

    private static func attributeValue(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let value = xmlGetProp(node, name) else { return nil }
        defer { garden_xml_free(value) }
        return String(cString: value)
    }
}
