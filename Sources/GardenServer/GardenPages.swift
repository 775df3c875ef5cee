import GardenPolicy
import GardenSites
import Mustache

/// The garden's own pages: what a visitor sees when there is no site page to show —
/// censor pages, the sign-in page, moved notices and errors.
///
/// Each is a Mustache template (`Config/templates/NAME.mustache`, falling back on the
/// built-in copy of the shipped one), in-world ("the national network") and in both
/// languages like the demo sites, with the classroom-simulation footer. Values are
/// HTML-escaped by Mustache; the teacher's note appears only in teaching mode.
struct GardenPages: Sendable {
    /// The templates a Config folder may provide, and what each is for.
    static let names = ["layout", "notfound", "blocked", "unavailable", "sign-in", "moved", "missing-page", "error", "banner"]

    /// Whether a template name is one the garden can use: a page above, or a banner
    /// (`banner-NAME`) for the rewrite effect.
    static func isKnown(_ name: String) -> Bool {
        names.contains(name) || (name.hasPrefix("banner-") && name.count > "banner-".count)
    }

    /// The banners available: `banner` and every `banner-NAME` given.
    private(set) var bannerNames: Set<String> = ["banner"]

    /// The portal's host, linked from every page so a lost visitor can find the way back.
    let portalHost: String
    private let library: MustacheLibrary

    /// The CSP of the garden's own pages: nothing may load at all, except this page's
    /// own inline style (there is no script to abuse it, and every value is escaped).
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

    /// Header lines for a garden page, each ending in CRLF.
    static let headerLines =
        "Content-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
        + SecurityHeaders.baseLines
        + "Content-Security-Policy: \(contentSecurityPolicy)\r\n"

    /// Header lines for a garden page with a form (the lab, the sign-in): as
    /// `headerLines`, but its forms may be sent, to the page's own origin only, and say
    /// where they come from (`same-origin`: with `no-referrer`, Chromium sends
    /// `Origin: null`, which the sign-in form refuses).
    static let formPageHeaderLines =
        "Content-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
        + "X-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\n"
        + "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'\r\n"

    /// Pages from `templates` (by name, from `Config/templates/`), the built-in ones for the rest.
    ///
    /// - Throws: `ConfigErrors` with `file:line:column` for a template that does not parse
    ///   or whose name is not one the garden uses.
    init(portalHost: String, templates: [String: GardenConfig.Source] = [:]) throws(ConfigErrors) {
        self.portalHost = portalHost
        var library = MustacheLibrary()
        var problems: [ConfigDiagnostic] = []
        /// The template of a source, or nil with its mistake added to `problems`.
        func compile(_ source: GardenConfig.Source) -> MustacheTemplate? {
            do {
                return try MustacheTemplate(string: source.text)
            } catch let error as MustacheTemplate.ParserError {
                problems.append(ConfigDiagnostic(
                    file: source.file, line: error.context.lineNumber, column: error.context.columnNumber,
                    message: "template error: \(Self.describe(error.error))"
                ))
            } catch {
                problems.append(ConfigDiagnostic(file: source.file, line: 0, column: 0, message: "template error: \(error)"))
            }
            return nil
        }
        for name in Self.names {
            if let source = templates[name], let template = compile(source) {
                library.register(template, named: name)
                continue
            }
            // The built-in copy; it parses (a test renders every one).
            if let builtIn = DefaultTemplates.sources[name], let template = try? MustacheTemplate(string: builtIn) {
                library.register(template, named: name)
            }
        }
        for (name, source) in templates.sorted(by: { $0.key < $1.key }) where name.hasPrefix("banner-") && Self.isKnown(name) {
            if let template = compile(source) {
                library.register(template, named: name)
                bannerNames.insert(name)
            }
        }
        for (name, source) in templates.sorted(by: { $0.key < $1.key }) where !Self.isKnown(name) {
            problems.append(ConfigDiagnostic(
                file: source.file, line: 0, column: 0,
                message: "no page is called '\(name)'\(Suggestion.phrase(for: name, among: Self.names)); templates are "
                    + Self.names.map { "\($0).mustache" }.joined(separator: ", ") + " and banner-NAME.mustache"
            ))
        }
        if !problems.isEmpty { throw ConfigErrors(problems) }
        self.library = library
    }

    /// The built-in pages only.
    static func builtIn(portalHost: String) -> GardenPages {
        // The built-in templates parse: a test renders each.
        (try? GardenPages(portalHost: portalHost)) ?? GardenPages(portalHost: portalHost, library: MustacheLibrary())
    }

    private init(portalHost: String, library: MustacheLibrary) {
        self.portalHost = portalHost
        self.library = library
    }

    private static func describe(_ error: any Error) -> String {
        guard let parserError = error as? MustacheTemplate.Error else { return "\(error)" }
        switch parserError {
        case .sectionCloseNameIncorrect: return "a closing tag {{/...}} does not match the section it closes"
        case .unfinishedName: return "a tag is not finished (missing }})"
        case .expectedSectionEnd: return "a section {{#...}} is never closed"
        case .invalidSetDelimiter: return "invalid delimiter change"
        default: return "\(parserError)"
        }
    }

    /// The teacher's note of a censor page (teaching mode).
    struct TeachersNote: Sendable {
        var rule: String
        var reason: String
        var visitorClass: String
    }

    private func render(_ name: String, _ values: [String: Any], teachersNote: TeachersNote? = nil) -> String {
        var context = values
        context["portal"] = portalHost
        if let teachersNote {
            context["teacher"] = [
                "rule": teachersNote.rule, "reason": teachersNote.reason.isEmpty ? "(no reason given)" : teachersNote.reason,
                "class": teachersNote.visitorClass,
            ]
        }
        return library.render(context, withTemplate: name) ?? ""
    }

    /// The page for a host that no site answers to, which `notfound` imitates exactly.
    func unknownHost(_ host: String) -> String {
        render("notfound", ["host": host])
    }

    /// The `block` censor style's page: in-world, without saying who decided or why.
    func blocked(_ host: String, teachersNote: TeachersNote? = nil) -> String {
        render("blocked", ["host": host], teachersNote: teachersNote)
    }

    /// The `unavailable` censor style's page (HTTP 451), naming the blocking authority.
    func unavailable(_ host: String, authority: String, teachersNote: TeachersNote? = nil) -> String {
        render("unavailable", ["host": host, "authority": authority], teachersNote: teachersNote)
    }

    /// The `authenticate` page (401/407): browsers show their password prompt instead;
    /// curl and a cancelled prompt show this.
    func signIn(host: String, realm: String, problem: String?, teachersNote: TeachersNote? = nil) -> String {
        var values: [String: Any] = ["host": host, "realm": realm]
        if let problem { values["detail"] = problem }
        return render("sign-in", values, teachersNote: teachersNote)
    }

    /// A redirect's body: the address to continue at.
    func moved(to location: String, teachersNote: TeachersNote? = nil) -> String {
        render("moved", ["location": location], teachersNote: teachersNote)
    }

    /// The page for a path that the site does not have (when the site has no `404.html`).
    var missingPage: String {
        render("missing-page", [:])
    }

    /// A banner for the rewrite effect; nil when no such template exists.
    func banner(named name: String, host: String, visitorClass: String) -> String? {
        guard bannerNames.contains(name) else { return nil }
        return render(name, ["host": host, "class": visitorClass])
    }

    /// A page for a request the garden refuses, with the technical reason.
    func error(status: HTTPStatusLine, reason: String) -> String {
        render("error", ["status": "\(status.code) \(status.phrase)", "detail": reason])
    }
}
