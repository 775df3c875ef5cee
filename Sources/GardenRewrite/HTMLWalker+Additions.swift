import CLibXML2
import Foundation
import GardenPolicy

/// What a rewrite adds to a page: the neutralised links' style sheet, the watermark and the banner.
extension HTMLWalker {
    static func element(named wanted: String, in document: htmlDocPtr) -> xmlNodePtr? {
        var node = xmlDocGetRootElement(document)
        // <html> → its children: <head>, <body>.
        if let root = node, name(of: root) == wanted { return root }
        node = node?.pointee.children
        while let current = node {
            if current.pointee.type == XML_ELEMENT_NODE, name(of: current) == wanted { return current }
            node = current.pointee.next
        }
        return nil
    }

    /// The `<head>` (made when the page has none).
    static func head(of document: htmlDocPtr) -> xmlNodePtr? {
        if let head = element(named: "head", in: document) { return head }
        guard let root = xmlDocGetRootElement(document), let head = xmlNewDocNode(document, nil, "head", nil) else { return nil }
        if let first = root.pointee.children { xmlAddPrevSibling(first, head) } else { xmlAddChild(root, head) }
        return head
    }

    static func body(of document: htmlDocPtr) -> xmlNodePtr? {
        if let body = element(named: "body", in: document) { return body }
        guard let root = xmlDocGetRootElement(document), let body = xmlNewDocNode(document, nil, "body", nil) else { return nil }
        xmlAddChild(root, body)
        return body
    }

    func addStyle(_ css: String, to document: htmlDocPtr) {
        guard let head = Self.head(of: document), let style = xmlNewDocNode(document, nil, "style", nil) else { return }
        // As a text child, so serialising leaves the CSS exactly as hashed for the CSP.
        if let text = xmlNewDocText(document, css) { xmlAddChild(style, text) }
        xmlSetProp(style, "id", "garden-rewrite")
        xmlAddChild(head, style)
    }

    mutating func addWatermark(_ stamp: String, to document: htmlDocPtr) {
        if let head = Self.head(of: document), let meta = xmlNewDocNode(document, nil, "meta", nil) {
            xmlSetProp(meta, "name", "garden-watermark")
            xmlSetProp(meta, "content", stamp)
            xmlAddChild(head, meta)
        }
        if let body = Self.body(of: document), let footer = xmlNewDocNode(document, nil, "footer", nil) {
            xmlSetProp(footer, "class", "garden-watermark")
            if let text = xmlNewDocText(document, stamp) { xmlAddChild(footer, text) }
            xmlAddChild(body, footer)
        }
        needsStyle = true
        changes.append(.watermarked)
    }

    /// Parses the banner's HTML and puts its nodes first in `<body>`.
    mutating func addBanner(_ html: String, to document: htmlDocPtr) {
        guard let body = Self.body(of: document) else { return }
        let wrapped = Array("<html><body>\(html)</body></html>".utf8)
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_NODEFDTD.rawValue)
        let fragment: htmlDocPtr? = wrapped.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { htmlReadMemory($0.baseAddress, Int32($0.count), nil, "UTF-8", options) }
        }
        guard let fragment else { return }
        defer { xmlFreeDoc(fragment) }
        guard let fragmentBody = Self.body(of: fragment) else { return }
        let first = body.pointee.children
        var node = fragmentBody.pointee.children
        while let current = node {
            node = current.pointee.next
            guard let copy = xmlDocCopyNode(current, document, 1) else { continue }
            if let first { xmlAddPrevSibling(first, copy) } else { xmlAddChild(body, copy) }
        }
        changes.append(.bannerInserted)
    }

    /// Puts the element's addresses in the gateway form (`GatewayForm.address`).
    mutating func putInGatewayForm(_ node: xmlNodePtr, _ gateway: GatewayForm) {
        for attribute in ["href", "src", "action", "formaction", "data", "poster"] {
            guard let value = Self.attribute(node, attribute), let moved = gateway.address(value) else { continue }
            xmlSetProp(node, attribute, moved)
            gatewayAddresses += 1
        }
        if let value = Self.attribute(node, "srcset") {
            let candidates = value.split(separator: ",").map { candidate -> String in
                let words = candidate.split(separator: " ", omittingEmptySubsequences: true)
                guard let first = words.first, let moved = gateway.address(String(first)) else { return String(candidate) }
                return ([moved] + words.dropFirst().map(String.init)).joined(separator: " ")
            }
            let joined = candidates.joined(separator: ", ")
            if joined != value {
                xmlSetProp(node, "srcset", joined)
                gatewayAddresses += 1
            }
        }
        if let style = Self.attribute(node, "style") {
            var changed = style
            for address in LinkTarget.cssURLs(style) {
                if let moved = gateway.address(address) { changed = changed.replacingOccurrences(of: address, with: moved) }
            }
            if changed != style {
                xmlSetProp(node, "style", changed)
                gatewayAddresses += 1
            }
        }
    }

    /// The strip at the top of `<body>` with the page's real address: the lesson keeps its
    /// names when students reach the sites by the garden's address.
    mutating func addAddressStrip(_ address: String, to document: htmlDocPtr) {
        guard let body = Self.body(of: document), let strip = xmlNewDocNode(document, nil, "p", nil) else { return }
        xmlSetProp(strip, "class", "garden-address")
        xmlSetProp(strip, "role", "note")
        if let text = xmlNewDocText(document, address) { xmlAddChild(strip, text) }
        if let first = body.pointee.children { xmlAddPrevSibling(first, strip) } else { xmlAddChild(body, strip) }
        needsStyle = true
        if gatewayAddresses > 0 { changes.append(.gatewayLinks(count: gatewayAddresses)) }
    }
}
