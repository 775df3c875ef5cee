import Foundation
import GardenPolicy
import GardenRewrite
import GardenServer
import GardenSites
import NIOCore

/// What `walled-garden lint-sites` found: every page of every site parsed with libxml2,
/// its links and resources followed.
///
/// Errors: a resource loaded from outside its own site (the sites' CSP would block it,
/// and the simulation must never touch the real internet), a link to a host the garden
/// does not have, a link to a page that does not exist. Warnings: what the HTML parser
/// complained about. Each is `file:line: message`.
public struct SiteLint: Sendable {
    public var errors: [String] = []
    public var warnings: [String] = []
    public var pagesChecked = 0
    public var linksChecked = 0

    public var passed: Bool { errors.isEmpty }

    /// Lints every site of `registry` under `sitesDirectory`.
    public static func run(registry: SiteRegistry, sitesDirectory: String) -> SiteLint {
        var lint = SiteLint()
        var contents: [String: SiteContent] = [:]
        for site in registry.sites {
            let folder = sitesDirectory.hasSuffix("/") ? sitesDirectory + site.folder : sitesDirectory + "/" + site.folder
            do {
                contents[site.host] = try SiteLoader.load(folder: folder).site.content
            } catch {
                lint.errors.append("\(error)")
            }
        }
        for site in registry.sites {
            guard let content = contents[site.host] else { continue }
            let folder = sitesDirectory.hasSuffix("/") ? sitesDirectory + site.folder : sitesDirectory + "/" + site.folder
            for (path, file) in content.files.sorted(by: { $0.key < $1.key }) where file.contentType.hasPrefix("text/html") {
                lint.pagesChecked += 1
                let inspection = HTMLInspector.inspect(file.body.readableBytesView)
                let place = folder + "/" + path
                for problem in inspection.problems {
                    lint.warnings.append("\(place):\(problem.line): HTML: \(problem.message)")
                }
                for reference in inspection.references {
                    lint.linksChecked += 1
                    if let message = check(reference, pagePath: path, site: site, registry: registry, contents: contents) {
                        lint.errors.append("\(place):\(reference.line): <\(reference.element) \(reference.attribute)=\"\(reference.address)\"> \(message)")
                    }
                }
            }
        }
        return lint
    }

    /// Why a reference is wrong, or nil.
    static func check(
        _ reference: PageInspection.Reference, pagePath: String, site: SiteEntry, registry: SiteRegistry, contents: [String: SiteContent]
    ) -> String? {
        let address = reference.address.trimmingCharacters(in: .whitespaces)
        if address.isEmpty || address.hasPrefix("#") { return nil }
        let lowered = address.lowercased()
        for scheme in ["mailto:", "tel:", "javascript:", "data:", "about:"] where lowered.hasPrefix(scheme) {
            return reference.kind == .resource && scheme != "data:" ? "loads a \(scheme) address" : nil
        }
        let targetSite: SiteEntry
        let path: String
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || lowered.hasPrefix("//") {
            guard let host = linkHost(address), let found = registry.site(named: host) else {
                return reference.kind == .resource
                    ? "loads from outside the garden; every site must be self-contained"
                    : "leads to a host the garden does not have (add it to sites.yaml or remove the link)"
            }
            if reference.kind == .resource, found.host != site.host {
                return "loads from another site (\(found.host)); the sites' CSP allows only their own files"
            }
            if lowered.hasPrefix("https://") { return "uses https://, which the garden does not serve; write http://" }
            targetSite = found
            path = pathPart(of: address)
        } else if lowered.contains(":") && !lowered.hasPrefix("/") && lowered.firstIndex(of: ":")! < (lowered.firstIndex(of: "/") ?? lowered.endIndex) {
            return "uses an address scheme the garden does not serve"
        } else {
            targetSite = site
            path = resolve(address, against: pagePath)
        }
        guard let content = contents[targetSite.host] else { return nil }
        // The portal's sign-in form is the garden's own page, not a file of the site.
        if targetSite.host == registry.portalHost, reference.kind == .navigation, path == "/sign-in" { return nil }
        guard case .success(let requestPath) = RequestPath.parse(path) else { return "is not a valid path" }
        if case .notFound = content.resolve(requestPath) { return "leads to a page that does not exist" }
        return nil
    }

    private static func linkHost(_ address: String) -> String? {
        var rest = Substring(address)
        if let scheme = rest.range(of: "//") { rest = rest[scheme.upperBound...] }
        if let end = rest.firstIndex(where: { "/?#".contains($0) }) { rest = rest[..<end] }
        if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
        return rest.isEmpty ? nil : rest.lowercased()
    }

    /// The path of an absolute address, without query and fragment.
    private static func pathPart(of address: String) -> String {
        var rest = Substring(address)
        if let scheme = rest.range(of: "//") { rest = rest[scheme.upperBound...] }
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return strip(String(rest[slash...]))
    }

    private static func strip(_ path: String) -> String {
        String(path.prefix { $0 != "?" && $0 != "#" })
    }

    /// A relative or absolute-path address resolved against the page's path (RFC 3986 §5.2).
    static func resolve(_ address: String, against pagePath: String) -> String {
        let target = strip(address)
        if target.isEmpty { return "/" + pagePath }
        var segments: [Substring]
        if target.hasPrefix("/") {
            segments = target.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }
        } else {
            segments = pagePath.split(separator: "/", omittingEmptySubsequences: false).dropLast().map { $0 }
                + target.split(separator: "/", omittingEmptySubsequences: false)
        }
        var output: [Substring] = []
        for (index, segment) in segments.enumerated() {
            let last = index == segments.count - 1
            switch segment {
            case ".": if last { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if last { output.append("") }
            default: output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }
}
