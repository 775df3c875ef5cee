import GardenPolicy
import GardenRewrite
import GardenSites
import NIOCore

/// Which of the policy's `content_keywords` a page's text contains: the fact that
/// content rules decide on. The page is read with libxml2 (its visible text: title and
/// body, not scripts or styles), the words found as the rewriter finds them.
public enum ContentWords {
    public static func of(_ file: StaticFile, policy: Policy) -> Set<String> {
        guard !policy.contentKeywords.isEmpty, file.isHTML else { return [] }
        let text = HTMLInspector.visibleText(file.body.readableBytesView)
        return policy.contentKeywordMatcher.words(in: text)
    }
}
