import GardenPolicy
import GardenRewrite
import GardenSites
import NIOCore

/// Which of the policy's `content_keywords` a page's text contains: the fact that
/// content rules decide on. The page is read with libxml2 (its visible text: title and
/// body, not scripts or styles), the words found as the rewriter finds them.
public enum ContentWords {
    public static func of(_ file: StaticFile, keywords: [String]) -> Set<String> {
        guard !keywords.isEmpty, file.contentType.hasPrefix("text/html") else { return [] }
        let text = HTMLInspector.inspect(file.body.readableBytesView).text
        return WordMatcher(finding: keywords).words(in: text)
    }

    /// The words for the page a request asks for, when the policy looks at content and
    /// the request is for a page of `content`; else nothing.
    public static func forRequest(path: RequestPath, content: SiteContent?, policy: Policy) -> (file: StaticFile, words: Set<String>)? {
        guard !policy.contentKeywords.isEmpty, let content, case .file(let file) = content.resolve(path),
              file.contentType.hasPrefix("text/html")
        else { return nil }
        return (file, of(file, keywords: policy.contentKeywords))
    }

    /// The words for a page named by a URL a teacher typed (`check`, `explain`), when the
    /// policy looks at content and the page is in `contents` (by site host).
    public static func forURL(_ url: String, contents: [String: SiteContent], registry: SiteRegistry, policy: Policy) -> Set<String> {
        guard !policy.contentKeywords.isEmpty,
              case .success(let target) = RequestTarget.parse(method: "GET", uri: url, host: nil, requiresHost: false),
              case .success(let path) = RequestPath.parse(target.pathAndQuery),
              let site = registry.site(for: target.host)
        else { return [] }
        return forRequest(path: path, content: contents[site.host], policy: policy)?.words ?? []
    }

    /// Loads the site of `url` from `sitesDirectory` when the policy looks at content (for
    /// the command-line tools); nil otherwise or when it cannot be read.
    public static func loadingSite(of url: String, config: GardenConfig, sitesDirectory: String) -> Set<String> {
        guard !config.policy.contentKeywords.isEmpty,
              case .success(let target) = RequestTarget.parse(method: "GET", uri: url, host: nil, requiresHost: false),
              let site = config.sites.site(for: target.host)
        else { return [] }
        let folder = sitesDirectory.hasSuffix("/") ? sitesDirectory + site.folder : sitesDirectory + "/" + site.folder
        guard let content = try? SiteLoader.load(folder: folder).site.content else { return [] }
        return forURL(url, contents: [site.host: content], registry: config.sites, policy: config.policy)
    }
}
