import CLibXML2
import Foundation
import GardenPolicy

/// One walk over a document, changing it as the plan says and noting each change.
struct HTMLWalker {
    let plan: RewritePlan
    let isReachable: (String) -> Bool
    let matcher: WordMatcher
    var reachable: [String: Bool] = [:]
    var changes: [RewrittenPage.Change] = []
    var needsStyle = false
    /// Addresses put in the gateway form so far.
    var gatewayAddresses = 0

    init(plan: RewritePlan, isReachable: @escaping (String) -> Bool) {
        self.plan = plan
        self.isReachable = isReachable
        self.matcher = WordMatcher(
            substitutions: plan.substitutions.map { ($0.word, $0.replacement) }, redactions: plan.redactions, emphasis: plan.emphasis
        )
    }

    /// Visits every node once, depth first, without recursion (a deeply nested page
    /// cannot exhaust the stack). Each node's next sibling is read before the node is
    /// changed, as changing may replace or remove it.
    mutating func walk(_ document: htmlDocPtr) {
        var node = document.pointee.children
        var untouchedDepth = 0  // > 0 inside <script>, <style>, ...
        while let current = node {
            var descend = true
            var next: xmlNodePtr?
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                // Only an element with an address-bearing attribute has links to check;
                // most (a `<p lang>`, a `<div class>`) are passed without a string made.
                if plan.links != .keep || plan.gateway != nil, Self.hasAddressAttribute(current) {
                    if plan.links != .keep { descend = checkLinks(current, name: Self.name(of: current)) }
                    if descend, let gateway = plan.gateway { putInGatewayForm(current, gateway) }
                }
                if descend, Self.isUntouched(current) { untouchedDepth += 1 }
            case XML_TEXT_NODE where untouchedDepth == 0 && !matcher.isEmpty:
                next = current.pointee.next
                let parent = current.pointee.parent
                changeText(current)
                descend = false
                node = next ?? Self.ascend(fromParent: parent, untouchedDepth: &untouchedDepth)
                continue
            default:
                break
            }
            guard descend else {
                // `current` is gone (removed, or unwrapped into its children): never touch it.
                node = nextAfterRemoval ?? Self.ascend(fromParent: parentOfRemoved, untouchedDepth: &untouchedDepth)
                nextAfterRemoval = nil
                parentOfRemoved = nil
                continue
            }
            if current.pointee.type == XML_ELEMENT_NODE, let child = current.pointee.children {
                node = child
                continue
            }
            if current.pointee.type == XML_ELEMENT_NODE, Self.isUntouched(current) {
                untouchedDepth -= 1
            }
            node = current.pointee.next ?? Self.ascend(fromParent: current.pointee.parent, untouchedDepth: &untouchedDepth)
        }
    }

    /// Where the walk continues after a node that `checkLinks` removed or unwrapped: the
    /// node now in its place or after it, else up from its parent.
    var nextAfterRemoval: xmlNodePtr?
    var parentOfRemoved: xmlNodePtr?

    /// The next node once every child of `parent` is done: the parent's next sibling, or
    /// further up. Leaving a `<script>` (or the like) ends its untouched text.
    static func ascend(fromParent start: xmlNodePtr?, untouchedDepth: inout Int) -> xmlNodePtr? {
        var parent = start
        while let current = parent, current.pointee.type == XML_ELEMENT_NODE {
            if isUntouched(current) { untouchedDepth -= 1 }
            if let next = current.pointee.next { return next }
            parent = current.pointee.parent
        }
        return nil
    }

    /// Whether the element's text is never changed (`<script>`, `<style>`, ...), asked
    /// of its C name without making a Swift string.
    static func isUntouched(_ node: xmlNodePtr) -> Bool {
        guard let name = node.pointee.name else { return false }
        return name.withMemoryRebound(to: CChar.self, capacity: 1) { name in
            switch name[0] {
            case 0x73: strcmp(name, "script") == 0 || strcmp(name, "style") == 0  // s
            case 0x74: strcmp(name, "textarea") == 0 || strcmp(name, "template") == 0  // t
            case 0x6E: strcmp(name, "noscript") == 0  // n
            default: false
            }
        }
    }

    /// Whether any attribute of the element can hold an address (`href`, `src`,
    /// `srcset`, `action`, `formaction`, `data`, `poster`, `style`).
    static func hasAddressAttribute(_ node: xmlNodePtr) -> Bool {
        var attribute = node.pointee.properties
        while let current = attribute {
            if let name = current.pointee.name {
                let found = name.withMemoryRebound(to: CChar.self, capacity: 1) { name -> Bool in
                    switch name[0] {
                    case 0x68: strcmp(name, "href") == 0  // h
                    case 0x73: strcmp(name, "src") == 0 || strcmp(name, "srcset") == 0 || strcmp(name, "style") == 0  // s
                    case 0x61: strcmp(name, "action") == 0  // a
                    case 0x66: strcmp(name, "formaction") == 0  // f
                    case 0x64: strcmp(name, "data") == 0  // d
                    case 0x70: strcmp(name, "poster") == 0  // p
                    default: false
                    }
                }
                if found { return true }
            }
            attribute = current.pointee.next
        }
        return false
    }

    static func name(of node: xmlNodePtr) -> String {
        guard let name = node.pointee.name else { return "" }
        return String(cString: name)
    }

    static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let value = xmlGetProp(node, name) else { return nil }
        defer { garden_xml_free(value) }
        return String(cString: value)
    }

    mutating func reaches(_ address: String) -> (host: String, reachable: Bool)? {
        guard let host = LinkTarget.host(of: address) else { return nil }
        if let known = reachable[host] { return (host, known) }
        let answer = isReachable(host)
        reachable[host] = answer
        return (host, answer)
    }

    /// Neutralises or removes the element's links to unreachable hosts. Returns false
    /// when the element was removed or unwrapped (the walk continues at `nextAfterRemoval`).
    mutating func checkLinks(_ node: xmlNodePtr, name: String) -> Bool {
        for attribute in HTMLRewriter.navigations[name] ?? [] {
            guard let value = Self.attribute(node, attribute), let target = reaches(value), !target.reachable else { continue }
            if plan.links == .remove {
                // The words stay readable; the link is gone.
                changes.append(.removed(element: name, url: value))
                parentOfRemoved = node.pointee.parent
                nextAfterRemoval = unwrap(node)
                return false
            }
            xmlSetProp(node, "data-garden-\(attribute)", value)
            xmlSetProp(node, attribute, plan.outsidePage)
            addClass("garden-outside", to: node)
            needsStyle = true
            changes.append(.neutralised(attribute: attribute, url: value))
        }
        for attribute in HTMLRewriter.resources[name] ?? [] {
            guard let value = Self.attribute(node, attribute) else { continue }
            let addresses = attribute == "srcset" ? LinkTarget.srcsetAddresses(value) : [value]
            guard let blocked = addresses.first(where: { reaches($0)?.reachable == false }) else { continue }
            if plan.links == .remove {
                changes.append(.removed(element: name, url: blocked))
                parentOfRemoved = node.pointee.parent
                nextAfterRemoval = node.pointee.next
                xmlUnlinkNode(node)
                xmlFreeNode(node)
                return false
            }
            xmlSetProp(node, "data-garden-\(attribute)", value)
            xmlUnsetProp(node, attribute)
            changes.append(.neutralised(attribute: attribute, url: blocked))
        }
        if let style = Self.attribute(node, "style"),
           let blocked = LinkTarget.cssURLs(style).first(where: { reaches($0)?.reachable == false }) {
            xmlSetProp(node, "data-garden-style", style)
            xmlUnsetProp(node, "style")
            changes.append(.neutralised(attribute: "style", url: blocked))
        }
        return true
    }

    /// Replaces an element by its children; returns the node to continue the walk at
    /// (nil: go up from the element's parent).
    mutating func unwrap(_ node: xmlNodePtr) -> xmlNodePtr? {
        let firstChild = node.pointee.children
        let after = node.pointee.next
        while let child = node.pointee.children {
            xmlUnlinkNode(child)
            xmlAddPrevSibling(node, child)
        }
        xmlUnlinkNode(node)
        xmlFreeNode(node)
        // The children are now in the element's place: walk them too.
        return firstChild ?? after
    }

    func addClass(_ name: String, to node: xmlNodePtr) {
        let existing = Self.attribute(node, "class") ?? ""
        let classes = existing.split(separator: " ").map(String.init)
        if !classes.contains(name) { xmlSetProp(node, "class", (classes + [name]).joined(separator: " ")) }
    }

    /// Substitutes, redacts and emphasises words in one text node.
    mutating func changeText(_ node: xmlNodePtr) {
        guard let content = node.pointee.content else { return }
        let pieces: [WordMatcher.Piece]
        let keywords: [WordMatcher.Keyword]
        // The byte path first: it answers most text nodes without making a String.
        let length = strlen(UnsafeRawPointer(content).assumingMemoryBound(to: CChar.self))
        switch matcher.apply(utf8: UnsafeBufferPointer(start: content, count: length)) {
        case .noMatch:
            return
        case .matched(let found, let matched):
            pieces = found
            keywords = matched
        case .fallback:
            guard let (found, matched) = matcher.apply(to: String(cString: content)) else { return }
            pieces = found
            keywords = matched.map(\.0)
        }
        for keyword in keywords {
            switch keyword.action {
            case .substitute(let replacement): changes.append(.substituted(word: keyword.word, replacement: replacement))
            case .redact: changes.append(.redacted(word: keyword.word))
            case .emphasise: changes.append(.emphasised(name: keyword.word))
            }
        }
        if pieces.count == 1, !pieces[0].emphasised {
            xmlNodeSetContent(node, pieces[0].text)
            return
        }
        // Emphasis splits the text. The pieces go before a placeholder element that takes
        // the text node's place: libxml2 merges a text node added next to another text
        // node into it, which would put the pieces into the node being replaced.
        guard let document = node.pointee.doc, let placeholder = xmlNewDocNode(document, nil, "garden-placeholder", nil) else { return }
        xmlReplaceNode(node, placeholder)
        xmlFreeNode(node)
        for piece in pieces {
            if piece.emphasised {
                guard let strong = xmlNewDocNode(document, nil, "strong", nil) else { continue }
                xmlSetProp(strong, "class", "garden-emphasis")
                if let text = xmlNewDocText(document, piece.text) { xmlAddChild(strong, text) }
                xmlAddPrevSibling(placeholder, strong)
                needsStyle = true
            } else if let text = xmlNewDocText(document, piece.text) {
                xmlAddPrevSibling(placeholder, text)
            }
        }
        xmlUnlinkNode(placeholder)
        xmlFreeNode(placeholder)
    }
}
