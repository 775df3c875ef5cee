import CLibXML2
import Foundation
import GardenPolicy

/// Rewrites HTML pages with libxml2: bytes in, bytes out; no libxml2 type leaves this module.
///
/// The page is parsed leniently (as browsers do: recover from errors, never fetch
/// anything), walked once, changed in place, and written back out as UTF-8 with
/// `htmlDocContentDumpFormatOutput` (which, unlike `htmlDocDumpMemory`, keeps Korean as
/// characters rather than entities). Text is changed only in text nodes outside
/// `<script>`, `<style>` and `<textarea>`; attributes and comments are never searched.
public enum HTMLRewriter {
    /// Attributes that navigate (a neutralised one leads to the plan's outside page).
    static let navigations: [String: [String]] = [
        "a": ["href"], "area": ["href"], "form": ["action"], "button": ["formaction"], "input": ["formaction"],
    ]
    /// Attributes that load a resource (a neutralised one is emptied).
    static let resources: [String: [String]] = [
        "img": ["src", "srcset"], "source": ["src", "srcset"], "script": ["src"], "iframe": ["src"], "frame": ["src"],
        "embed": ["src"], "object": ["data"], "video": ["src", "poster"], "audio": ["src"], "track": ["src"],
        "link": ["href"], "input": ["src"],
    ]
    /// Elements whose text is never changed.
    static let untouchedText: Set<String> = ["script", "style", "textarea", "noscript", "template"]

    /// The style the rewriter adds when it emphasises, neutralises or watermarks.
    static let styleSheet = """
        .garden-emphasis{font-size:1.3em;font-weight:bold}\
        .garden-outside{text-decoration:line-through;cursor:not-allowed}\
        .garden-watermark{margin:2rem 0 0;padding:.5rem;border-top:1px dashed #999;color:#777;font-size:.8rem;text-align:center}
        """
    /// The gateway form's address strip, added to the sheet only when a page has one.
    static let addressStripStyle = ".garden-address{margin:0;padding:.2rem .8rem;background:#222;color:#eee;font:.8rem/1.4 monospace;text-align:left}"

    /// Rewrites `html` by `plan`. `isReachable` says whether the visitor may reach a host
    /// (asked once per host). Input that is not HTML at all comes back as libxml2 reads
    /// it: an empty or garbage page is still a (small) document, never a crash.
    public static func rewrite(_ html: some Collection<UInt8>, plan: RewritePlan, isReachable: @escaping (String) -> Bool) -> RewrittenPage {
        garden_xml_silence()
        let bytes = Array(html)
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_NODEFDTD.rawValue)
        let parsed: htmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                // An empty page still parses as an empty document.
                htmlReadMemory(chars.count == 0 ? Self.emptyInput : chars.baseAddress, Int32(clamping: chars.count), nil, "UTF-8", options)
            }
        }
        guard let document = parsed else { return RewrittenPage(html: bytes, changes: [], addedStyle: "") }
        defer { xmlFreeDoc(document) }

        var walker = HTMLWalker(plan: plan, isReachable: isReachable)
        walker.walk(document)
        if let watermark = plan.watermark {
            walker.addWatermark(watermark, to: document)
        }
        if let banner = plan.bannerHTML {
            walker.addBanner(banner, to: document)
        }
        if let gateway = plan.gateway {
            walker.addAddressStrip(gateway.realAddress, to: document)
        }
        var style = ""
        if walker.needsStyle {
            style = plan.gateway == nil ? styleSheet : styleSheet + addressStripStyle
            walker.addStyle(style, to: document)
        }
        return RewrittenPage(html: serialise(document), changes: walker.changes, addedStyle: style)
    }

    /// A one-byte buffer to hand libxml2 for an empty page (it needs a pointer).
    // nonisolated(unsafe): written once here, then only ever read (libxml2 does not write its input).
    nonisolated(unsafe) private static let emptyInput: UnsafePointer<CChar> = {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return UnsafePointer(pointer)
    }()

    /// The document as UTF-8 bytes.
    static func serialise(_ document: htmlDocPtr) -> [UInt8] {
        guard let output = xmlAllocOutputBuffer(nil) else { return [] }
        htmlDocContentDumpFormatOutput(output, document, "UTF-8", 0)
        let size = Int(xmlOutputBufferGetSize(output))
        var result: [UInt8] = []
        if let content = xmlOutputBufferGetContent(output), size > 0 {
            result = Array(UnsafeBufferPointer(start: content, count: size))
        }
        xmlOutputBufferClose(output)
        return result
    }
}
