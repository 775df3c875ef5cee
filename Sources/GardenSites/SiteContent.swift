/// Everything one site serves, loaded from its folder. A class: requests take it by
/// one reference rather than copying its dictionaries.
public final class SiteContent: Sendable {
    /// What a path resolves to inside a site.
    public enum Resolution: Sendable {
        /// Serve this file.
        case file(StaticFile)
        /// A directory named without its trailing slash: redirect to `location`.
        case redirect(location: String)
        /// Nothing here; the site's own `404.html` if it has one.
        case notFound(page: StaticFile?)
    }

    /// Files by path relative to the site folder (`recipes/naengmyeon.html`).
    public let files: [String: StaticFile]
    /// Every directory that holds a served file, relative to the site folder, `""` for the root.
    public let directories: Set<String>

    /// Content from files keyed by their path relative to the site folder.
    public init(files: [String: StaticFile]) {
        self.files = files
        var directories: Set<String> = [""]
        for path in files.keys {
            var parts = path.split(separator: "/").dropLast()
            while !parts.isEmpty {
                directories.insert(parts.joined(separator: "/"))
                parts = parts.dropLast()
            }
        }
        self.directories = directories
    }

    /// A copy that shares no storage with this one, for a thread that should not touch
    /// the reference counts other threads use.
    public func privateCopy() -> SiteContent {
        SiteContent(files: files.mapValues { $0.privateCopy() })
    }

    /// The site's own not-found page, if it has one.
    public var notFoundPage: StaticFile? { files["404.html"] }

    /// Resolves a checked request path: files by name, directories to their `index.html`,
    /// a directory without its slash to a redirect that adds it (keeping the query).
    public func resolve(_ path: RequestPath) -> Resolution {
        let relative = path.relativePath
        if relative.isEmpty {
            return files["index.html"].map(Resolution.file) ?? .notFound(page: notFoundPage)
        }
        if path.hasTrailingSlash {
            guard directories.contains(relative), let index = files[relative + "/index.html"] else {
                return .notFound(page: notFoundPage)
            }
            return .file(index)
        }
        if let file = files[relative] { return .file(file) }
        if directories.contains(relative) {
            // Built from the checked segments, never the raw path: `//host/dir` must not
            // become a protocol-relative redirect to another host.
            return .redirect(location: path.canonicalPath + "/" + path.rawQuery)
        }
        return .notFound(page: notFoundPage)
    }
}
