import Foundation
import GardenPolicy
import GardenRewrite
import GardenServer
import GardenTeaching
import HTTPTypes
import Hummingbird

/// The desk's Reveal page: a page as the site has it and as a chosen visitor gets it.
extension TeacherDesk {
    func revealForm(config: GardenConfig, url: String, visitorClass: String) -> String {
        let options = config.policy.classes.keys.sorted().map { name in
            "<option\(name == visitorClass ? " selected" : "")>\(Self.escape(name))</option>"
        }.joined()
        return """
            <form method="get" action="/reveal">
            <h2>Reveal: what the censor changes in a page</h2>
            <label>Page <input name="url" size="50" value="\(Self.escape(url))"></label>
            <label>as <select name="as">\(options)</select></label>
            <button>Reveal</button>
            </form>
            """
    }

    func reveal(_ request: Request, session: TeacherSessions.Session) -> Response {
        let config = currentConfig()
        let query = request.uri.queryParameters
        let url = query["url"].map(String.init) ?? "http://friend.com.kp/"
        let visitorClass = query["as"].map(String.init) ?? config.policy.defaultClass
        var body = revealForm(config: config, url: url, visitorClass: visitorClass)
        guard config.policy.classes[visitorClass] != nil else {
            body += "<p class=\"problem\">No class '\(Self.escape(visitorClass))'.</p>"
            return Self.page(status: .badRequest, title: "Reveal", session: session, body: body)
        }
        do {
            let result = try Reveal.run(
                config: config, sitesDirectory: sitesDirectory, url: url.contains("://") ? url : "http://" + url,
                visitorClass: visitorClass, account: nil, clientAddress: nil, time: Int64(Date().timeIntervalSince1970)
            )
            let summary = result.lines.prefix { !$0.hasPrefix("Original (-)") }
            body += "<pre class=\"summary\">\(Self.escape(summary.joined(separator: "\n")))</pre>"
            if !result.filtered.isEmpty, result.filtered != result.original {
                body += Self.sideBySide(LineDiff.lines(from: result.original, to: result.filtered))
            }
        } catch {
            body += "<p class=\"problem\">\(Self.escape(error.description))</p>"
        }
        return Self.page(status: .ok, title: "Reveal", session: session, body: body)
    }

    /// The original on the left, what the visitor receives on the right; changed lines marked.
    static func sideBySide(_ lines: [LineDiff.Line]) -> String {
        var rows: [String] = []
        var removed: [String] = []
        var added: [String] = []
        func flush() {
            for index in 0..<max(removed.count, added.count) {
                let left = index < removed.count ? Self.escape(removed[index]) : ""
                let right = index < added.count ? Self.escape(added[index]) : ""
                rows.append("<tr><td class=\"del\">\(left)</td><td class=\"ins\">\(right)</td></tr>")
            }
            removed = []
            added = []
        }
        for line in lines {
            switch line {
            case .same(let text):
                flush()
                let escaped = Self.escape(text)
                rows.append("<tr><td>\(escaped)</td><td>\(escaped)</td></tr>")
            case .removed(let text): removed.append(text)
            case .added(let text): added.append(text)
            }
        }
        flush()
        return "<table class=\"diff\"><tr><th>As the site has it</th><th>As the visitor receives it</th></tr>\(rows.joined())</table>"
    }
}
