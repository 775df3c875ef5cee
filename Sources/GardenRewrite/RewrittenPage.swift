/// A page after rewriting: the new bytes, what changed (for `reveal` and the audit log),
/// and the style sheet the rewriter added, whose hash the page's CSP must allow.
public struct RewrittenPage: Sendable, Equatable {
    /// One change made to the page.
    public enum Change: Sendable, Equatable, CustomStringConvertible {
        /// A link or resource to a host the visitor may not reach, now pointing nowhere.
        case neutralised(attribute: String, url: String)
        case removed(element: String, url: String)
        case substituted(word: String, replacement: String)
        case redacted(word: String)
        case emphasised(name: String)
        case bannerInserted
        case watermarked
        case gatewayLinks(count: Int)

        public var description: String {
            switch self {
            case .neutralised(let attribute, let url): "neutralised \(attribute)=\(url)"
            case .removed(let element, let url): "removed <\(element)> to \(url)"
            case .substituted(let word, let replacement): "replaced “\(word)” with “\(replacement)”"
            case .redacted(let word): "redacted “\(word)”"
            case .emphasised(let name): "emphasised “\(name)”"
            case .bannerInserted: "inserted the banner"
            case .watermarked: "stamped the watermark"
            case .gatewayLinks(let count): "put \(count) address\(count == 1 ? "" : "es") in the gateway form"
            }
        }
    }

    /// The rewritten document, UTF-8.
    public var html: [UInt8]
    public var changes: [Change]
    /// The `<style>` text added to the page (empty when none was needed).
    public var addedStyle: String
}
