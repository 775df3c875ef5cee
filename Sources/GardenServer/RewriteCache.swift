import Crypto
import Foundation
import GardenRewrite
import GardenSites
import NIOCore

/// Rewritten pages, ready to serve, so a steady stream of requests for the same page
/// parses nothing: the first request renders, the rest are a dictionary lookup.
///
/// One per event loop (like the sites themselves), so lookups take no lock. Bounded in
/// bytes; when full, the least recently used pages go first.
final class RewriteCache {
    /// What a rewritten page depends on.
    struct Key: Hashable {
        /// The site and path of the original, and its version.
        var host: String
        var path: String
        var etag: String
        /// The policy in force (reachability of links depends on it).
        var policyGeneration: Int
        var plan: RewritePlan
        /// The visitor, as far as the page can differ between visitors: class and
        /// account, plus the client address and the minute when the policy looks at them.
        var viewer: String
        /// The plan's hash, computed once per plan (see `PageRewrite`): hashing a key
        /// then costs its strings, not the plan's word lists.
        var planHash: Int

        func hash(into hasher: inout Hasher) {
            hasher.combine(host)
            hasher.combine(path)
            hasher.combine(etag)
            hasher.combine(policyGeneration)
            hasher.combine(viewer)
            hasher.combine(planHash)
        }

        static func == (a: Key, b: Key) -> Bool {
            a.planHash == b.planHash && a.host == b.host && a.path == b.path && a.etag == b.etag
                && a.policyGeneration == b.policyGeneration && a.viewer == b.viewer && a.plan == b.plan
        }
    }

    /// A class, so a hit updates its use without storing the entry again.
    private final class Entry {
        let file: StaticFile
        var lastUse: UInt64

        init(file: StaticFile, lastUse: UInt64) {
            self.file = file
            self.lastUse = lastUse
        }
    }

    private var entries: [Key: Entry] = [:]
    private var bytes = 0
    private var clock: UInt64 = 0
    let budget: Int

    init(budget: Int) {
        self.budget = budget
    }

    /// The cached page, or nil.
    func page(for key: Key) -> StaticFile? {
        guard let entry = entries[key] else { return nil }
        clock += 1
        entry.lastUse = clock
        return entry.file
    }

    /// Keeps a rendered page, making room if needed. A page larger than the whole
    /// budget is served but not kept.
    func store(_ file: StaticFile, for key: Key) {
        let size = file.size + file.okHead.readableBytes
        guard size <= budget else { return }
        if let old = entries[key] { bytes -= old.file.size + old.file.okHead.readableBytes }
        while bytes + size > budget, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            bytes -= oldest.value.file.size + oldest.value.file.okHead.readableBytes
            entries[oldest.key] = nil
        }
        clock += 1
        entries[key] = Entry(file: file, lastUse: clock)
        bytes += size
    }

    /// A servable file from a rewritten page: its own ETag (the original's cannot
    /// validate it) and a CSP that admits the style the rewriter added, by hash.
    static func file(from page: RewrittenPage, original: StaticFile) -> StaticFile {
        var policy = SecurityHeaders.contentSecurityPolicy
        if !page.addedStyle.isEmpty {
            let digest = SHA256.hash(data: Data(page.addedStyle.utf8))
            policy += "; style-src 'self' 'sha256-\(Data(digest).base64EncodedString())'"
        }
        return StaticFile(
            bytes: page.html, contentType: original.contentType, lastModified: original.lastModified,
            etagPrefix: "r-", contentSecurityPolicy: policy
        )
    }
}
