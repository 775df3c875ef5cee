/// Evaluates a request's conditional headers against a file (RFC 9110 §13.2.2).
///
/// Only the read-only conditions matter to a static server: `If-None-Match`,
/// `If-Modified-Since` and `If-Range`. (`If-Match` and `If-Unmodified-Since` guard writes.)
public enum Preconditions {
    /// Whether a GET or HEAD may be answered 304 Not Modified.
    ///
    /// `If-None-Match` decides when present (weak comparison; `*` matches any existing
    /// file); otherwise `If-Modified-Since`, compared in whole seconds.
    public static func isNotModified(ifNoneMatch: [String], ifModifiedSince: String?, file: StaticFile) -> Bool {
        if !ifNoneMatch.isEmpty {
            return ifNoneMatch.contains { value in
                entityTags(in: value).contains { $0 == "*" || weakMatch($0, file.etag) }
            }
        }
        if let ifModifiedSince, let since = HTTPDate.parse(ifModifiedSince) {
            return file.lastModified <= since
        }
        return false
    }

    /// Whether a `Range` should be honoured given `If-Range`: the validator must match
    /// strongly (an ETag) or exactly (a date). No `If-Range` means yes.
    public static func rangeApplies(ifRange: String?, file: StaticFile) -> Bool {
        guard let ifRange = ifRange?.trimmingASCIISpaces() else { return true }
        if ifRange.hasPrefix("\"") { return ifRange == file.etag }
        if ifRange.hasPrefix("W/") { return false }
        return HTTPDate.parse(String(ifRange)) == file.lastModified
    }

    /// The entity tags in one header value: `"a", W/"b"` or `*`.
    static func entityTags(in value: String) -> [Substring] {
        value.split(separator: ",").map { $0.trimmingASCIISpaces() }.filter { !$0.isEmpty }
    }

    /// Weak comparison: equal opaque tags, ignoring `W/` on either side.
    static func weakMatch(_ tag: Substring, _ etag: String) -> Bool {
        let bare = tag.hasPrefix("W/") ? tag.dropFirst(2) : tag
        let ours = etag.hasPrefix("W/") ? etag.dropFirst(2) : Substring(etag)
        return bare == ours
    }
}
