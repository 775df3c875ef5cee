import GardenSites

/// The garden's own pages: what a visitor sees when there is no site page to show.
///
/// They speak in-world ("the national network") and in both languages, like the demo
/// sites, and carry the same classroom-simulation footer.
struct GardenPages: Sendable {
    /// The portal's host, linked from every page so a lost visitor can find the way back.
    let portalHost: String

    /// The CSP of the garden's own pages: nothing may load at all, except this page's
    /// own inline style (there is no script to abuse it, and every value is escaped).
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

    /// Header lines for a garden page, each ending in CRLF.
    static let headerLines =
        "Content-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
        + SecurityHeaders.baseLines
        + "Content-Security-Policy: \(contentSecurityPolicy)\r\n"

    private static let style = """
        body { margin: 0; font-family: "Noto Sans KR", "Noto Sans CJK KR", sans-serif; background: #f4f1ea; color: #222; line-height: 1.6; }
        header { background: #8e1b14; color: #fff; padding: 0.8rem 1.5rem; border-bottom: 4px solid #d4a017; font-weight: 700; letter-spacing: 0.08em; }
        main { max-width: 40rem; margin: 3rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 10px; box-shadow: 0 1px 4px rgba(0,0,0,0.15); }
        h1 { margin: 0 0 0.3rem; font-size: 1.7rem; } h2 { font-size: 1.2rem; color: #555; margin: 1.2rem 0 0.3rem; }
        code { background: #f0f0f0; padding: 0.1rem 0.3rem; border-radius: 3px; }
        a { color: #8e1b14; }
        footer { text-align: center; font-size: 0.85rem; color: #666; padding: 1rem; }
        """

    /// A complete, self-contained HTML page in the garden's own look.
    func page(
        titleKorean: String, titleEnglish: String, bodyKorean: String, bodyEnglish: String, detail: String? = nil,
        teachersNote: String? = nil
    ) -> String {
        var detailLine = detail.map { "<p><code>\(Self.escape($0))</code></p>\n" } ?? ""
        if let teachersNote {
            detailLine += "<aside><h2 lang=\"en\">Teacher's note</h2><p lang=\"en\">\(teachersNote)</p></aside>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="ko">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(titleKorean) · \(titleEnglish)</title>
        <style>\(Self.style)</style>
        </head>
        <body>
        <header>국가망 · NATIONAL NETWORK</header>
        <main>
        <h1>\(titleKorean)</h1>
        <p>\(bodyKorean)</p>
        <h2 lang="en">\(titleEnglish)</h2>
        <p lang="en">\(bodyEnglish)</p>
        \(detailLine)<p><a href="http://\(portalHost)/">광명 포털 · Kwangmyong portal</a></p>
        </main>
        <footer><small>Walled Garden — a classroom simulation of a censored national network. 교실 모의 실험입니다.</small></footer>
        </body>
        </html>

        """
    }

    /// The page for a host that no site answers to.
    func unknownHost(_ host: String) -> String {
        page(
            titleKorean: "없는 주소입니다",
            titleEnglish: "This address does not exist",
            bodyKorean: "요청하신 주소 <b>\(Self.escape(host))</b>는 국가망에 존재하지 않습니다.",
            bodyEnglish: "The address <b>\(Self.escape(host))</b> does not exist on the national network."
        )
    }

    /// The `block` censor style's page: in-world, without saying who decided or why.
    func blocked(_ host: String, teachersNote: String? = nil) -> String {
        page(
            titleKorean: "볼 수 없는 페이지입니다",
            titleEnglish: "This page is not available",
            bodyKorean: "요청하신 페이지 <b>\(Self.escape(host))</b>는 국가망에서 볼 수 없습니다.",
            bodyEnglish: "The page at <b>\(Self.escape(host))</b> is not available on the national network.",
            teachersNote: teachersNote
        )
    }

    /// The `unavailable` censor style's page (HTTP 451), naming the blocking authority.
    func unavailable(_ host: String, authority: String, teachersNote: String? = nil) -> String {
        page(
            titleKorean: "법적 사유로 볼 수 없습니다",
            titleEnglish: "Unavailable for legal reasons",
            bodyKorean: "<b>\(Self.escape(host))</b>는 관계 기관의 결정에 따라 차단되었습니다.",
            bodyEnglish: "Access to <b>\(Self.escape(host))</b> has been restricted by "
                + "<a href=\"\(Self.escape(authority))\">the responsible authority</a>.",
            teachersNote: teachersNote
        )
    }

    /// The `authenticate` page (401/407): browsers show their password prompt instead;
    /// curl and a cancelled prompt show this.
    func signIn(realm: String, problem: String?, teachersNote: String? = nil) -> String {
        page(
            titleKorean: "로그인이 필요합니다",
            titleEnglish: "Please sign in",
            bodyKorean: "이 페이지를 보려면 <b>\(Self.escape(realm))</b> 계정으로 로그인하십시오.",
            bodyEnglish: "Sign in with your <b>\(Self.escape(realm))</b> account to see this page.",
            detail: problem,
            teachersNote: teachersNote
        )
    }

    /// The teacher's note on a censored page: which rule decided, why, and for whom.
    static func teachersNote(ruleID: String, reason: String, visitorClass: String) -> String {
        "Rule <code>\(escape(ruleID))</code> decided this for a visitor of class <code>\(escape(visitorClass))</code>: "
            + "\(escape(reason.isEmpty ? "(no reason given)" : reason))"
    }

    /// The page for a path that the site does not have (when the site has no `404.html`).
    var notFound: String {
        page(
        titleKorean: "페이지를 찾을 수 없습니다",
        titleEnglish: "Page not found",
        bodyKorean: "요청하신 페이지가 이 사이트에 없습니다.",
        bodyEnglish: "The page you asked for is not on this site."
        )
    }

    /// A page for a request the garden refuses, with the technical reason.
    func error(status: HTTPStatusLine, reason: String) -> String {
        page(
            titleKorean: "요청을 처리할 수 없습니다",
            titleEnglish: "\(status.code) \(status.phrase)",
            bodyKorean: "요청을 처리할 수 없습니다.",
            bodyEnglish: "The garden cannot answer this request.",
            detail: reason
        )
    }

    /// Escapes text for HTML element content and attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
