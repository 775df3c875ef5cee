import GardenPolicy

/// Everything one page's rewriting needs, merged from the `rewrite` effects of a decision.
///
/// Pure data: the rewriter applies it with libxml2, the data plane builds it from the
/// policy's decision and the visitor.
public struct RewritePlan: Sendable, Hashable {
    /// What happens to links and resources that lead to hosts the visitor may not reach.
    public var links: RewriteSet.LinkTreatment = .keep
    /// Where a neutralised link leads instead: an in-garden page that says so.
    public var outsidePage: String
    /// Words replaced in text, first listed first.
    public var substitutions: [RewriteSet.Substitution] = []
    /// Words blacked out in text (`███`).
    public var redactions: [String] = []
    /// Names set larger and bold.
    public var emphasis: [String] = []
    /// HTML inserted at the top of `<body>` (already rendered from its template).
    public var bannerHTML: String?
    /// The viewer and time stamped into the page, or nil.
    public var watermark: String?
    /// When the page is served in the gateway form: its links are put in that form, and a
    /// strip shows its real address.
    public var gateway: GatewayForm?

    public init(outsidePage: String) {
        self.outsidePage = outsidePage
    }

    /// Merges the `rewrite` effects of a decision: the first effect that says what to do
    /// with links decides that (rules are read top to bottom); word lists add up.
    public init(sets: [RewriteSet], outsidePage: String) {
        self.outsidePage = outsidePage
        var links: RewriteSet.LinkTreatment?
        for set in sets {
            if links == nil { links = set.links }
            for substitution in set.substitutions where !substitutions.contains(substitution) { substitutions.append(substitution) }
            for word in set.redactions where !redactions.contains(word) { redactions.append(word) }
            for name in set.emphasis where !emphasis.contains(name) { emphasis.append(name) }
        }
        self.links = links ?? .keep
    }
}

