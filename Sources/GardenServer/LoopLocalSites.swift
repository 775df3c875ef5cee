import GardenPolicy
import GardenSites
import NIOCore

/// One event loop's private copy of the site registry and the sites' content.
///
/// Both event loops serving from the same objects would make every request bump the
/// same reference counts and take the same lock from two cores, and the cache line
/// bouncing between them cost more than the rest of the lookup. Each loop therefore
/// keeps a copy, refreshed when the library's generation moves (a rare file change).
/// Only ever touched on its own event loop.
final class LoopLocalSites: @unchecked Sendable {
    private let library: SiteLibrary
    private let eventLoop: any EventLoop
    /// This loop's copy of the registry in force (replaced when `sites.yaml` reloads).
    private(set) var registry: SiteRegistry
    private var generation = -1
    /// Content by the registry's site index.
    private var contents: [SiteContent?] = []
    private let policies: PolicyStore
    private var loadedPolicyGeneration = -1
    private var cachedPolicy = Policy.openDoor
    private var cachedPages: GardenPages
    /// Rewritten pages served on this loop.
    let rewrites = RewriteCache(budget: 32 << 20)
    /// The last few rewrites worked out from decisions, so a stream of requests from
    /// the same kind of visitor does not rebuild the plan each time.
    private var recentRewrites: [(generation: Int, effects: [Effect], visitor: RewriteVisitor, rewrite: PageRewrite)] = []

    /// What of a request's facts a rewrite plan depends on.
    struct RewriteVisitor: Equatable {
        var host: String
        var visitorClass: String
        var account: String?
        var clientAddress: [UInt8]?
        var minute: Int64
    }

    /// The rewrite for a decision's effects and a visitor: remembered, or worked out now.
    func pageRewrite(decision: Decision, facts: RequestFacts, policy: Policy, pages: GardenPages, portalHost: String) -> PageRewrite? {
        let visitor = RewriteVisitor(
            host: facts.host, visitorClass: facts.visitorClass, account: facts.account, clientAddress: facts.clientAddress,
            minute: facts.time / 60
        )
        let generation = loadedPolicyGeneration
        for entry in recentRewrites where entry.generation == generation && entry.visitor == visitor && entry.effects == decision.effects {
            return entry.rewrite
        }
        guard let rewrite = PageRewrite(decision: decision, facts: facts, policy: policy, pages: pages, portalHost: portalHost) else {
            return nil
        }
        if recentRewrites.count >= 16 { recentRewrites.removeFirst() }
        recentRewrites.append((generation, decision.effects, visitor, rewrite))
        return rewrite
    }

    /// The content words found per page (`content_keywords`), for the policy in force:
    /// emptied when the policy changes. Keyed by the file object, which the entry holds,
    /// so a new version of a page (a new object) is read anew and no key is reused.
    private var contentWordsCache: [ObjectIdentifier: (file: StaticFile, words: Set<String>)] = [:]

    init(library: SiteLibrary, policies: PolicyStore, eventLoop: any EventLoop) {
        self.policies = policies
        let current = policies.current()
        self.cachedPages = current.pages
        // Rebuilding the registry gives it dictionaries of its own.
        self.registry = SiteRegistry(sites: current.registry.sites, portalHost: current.registry.portalHost)
        self.library = library
        self.eventLoop = eventLoop
    }

    /// The policy in force, as this loop's copy.
    var policy: Policy {
        refreshPolicy()
        return cachedPolicy
    }

    /// The pages that go with the policy in force.
    var pages: GardenPages {
        refreshPolicy()
        return cachedPages
    }

    /// The generation of the policy in force, for keys of things that depend on it.
    var policyGeneration: Int {
        refreshPolicy()
        return loadedPolicyGeneration
    }

    /// The policy's content keywords found in `file`, read once per page version and policy.
    func contentWords(in file: StaticFile) -> Set<String> {
        let policy = self.policy  // refreshes, emptying the cache when the policy changed
        if let known = contentWordsCache[ObjectIdentifier(file)] { return known.words }
        let words = ContentWords.of(file, policy: policy)
        if contentWordsCache.count >= 4096 { contentWordsCache.removeAll(keepingCapacity: true) }
        contentWordsCache[ObjectIdentifier(file)] = (file, words)
        return words
    }

    /// Whole answers (head and body) of small files as of one second: the common answer,
    /// 200 on a kept-alive connection, is then one shared buffer written as it is, where
    /// building it copied the head's lines and the body into the connection's buffer.
    private var prebuiltAnswers: [ObjectIdentifier: (second: Int, file: StaticFile, bytes: ByteBuffer)] = [:]

    /// The 200 answer to `file` for this second (`dateLine` is its `Date` line), built once
    /// a second per file on this loop.
    func prebuiltAnswer(_ file: StaticFile, second: Int, dateLine: String) -> ByteBuffer {
        if let entry = prebuiltAnswers[ObjectIdentifier(file)], entry.second == second, entry.file === file { return entry.bytes }
        let ending = "Connection: keep-alive\r\n\r\n"
        var bytes = ByteBuffer()
        bytes.reserveCapacity(file.okHead.readableBytes + dateLine.utf8.count + ending.utf8.count + file.size)
        bytes.writeImmutableBuffer(file.okHead)
        bytes.writeString(dateLine)
        bytes.writeString(ending)
        bytes.writeImmutableBuffer(file.body)
        if prebuiltAnswers.count >= 512 { prebuiltAnswers.removeAll(keepingCapacity: true) }
        prebuiltAnswers[ObjectIdentifier(file)] = (second, file, bytes)
        return bytes
    }

    /// The censor's pages (block page, 451, not-found, moved, sign-in) as rendered, by
    /// the page and what it shows: a flood of refused requests renders each once.
    /// Forgotten when the policy or its templates change.
    private var renderedPages: [String: ByteBuffer] = [:]

    /// The page for `key`, rendered by `render` the first time from the pages in force.
    ///
    /// `render` is given the pages, rather than using ones its caller took earlier: a
    /// reload between the two would otherwise render the old template into the new
    /// policy's cache, where it would stay until the next reload.
    func renderedPage(_ key: String, render: (GardenPages) -> String) -> ByteBuffer {
        refreshPolicy()
        if let page = renderedPages[key] { return page }
        if renderedPages.count >= 1024 { renderedPages.removeAll(keepingCapacity: true) }
        let page = ByteBuffer(string: render(cachedPages))
        renderedPages[key] = page
        return page
    }

    private func refreshPolicy() {
        if policies.generation != loadedPolicyGeneration {
            let current = policies.current()
            (loadedPolicyGeneration, cachedPolicy, cachedPages) = (current.generation, current.policy, current.pages)
            contentWordsCache.removeAll()
            renderedPages.removeAll()
            if current.registry != registry {
                registry = SiteRegistry(sites: current.registry.sites, portalHost: current.registry.portalHost)
                generation = -1  // the contents are indexed by the registry's order: take them anew
            }
        }
    }

    /// The site a host reaches, with its zone and current content; nil for an address
    /// that does not exist on the network.
    func site(for host: HostName) -> (zone: Zone, content: SiteContent)? {
        eventLoop.assertInEventLoop()
        refreshPolicy()
        guard let index = registry.index(for: host) else { return nil }
        if library.generation != generation {
            let snapshot = library.snapshot()
            contents = registry.sites.map { snapshot.contents[$0.folder]?.privateCopy() }
            generation = snapshot.generation
        }
        guard let content = contents[index] else { return nil }
        return (registry.sites[index].zone, content)
    }
}
