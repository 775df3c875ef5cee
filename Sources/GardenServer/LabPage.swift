import GardenAudit
import GardenPolicy
import GardenSites
import Foundation
import NIOCore

/// The students' lab (`/lab` at the garden's own address): a student types an address and
/// sees what the censor does with it for them — the control (is the page there at all?)
/// and the censorship named, as `probe` names it — and their own recent requests with
/// what the censor did to each. The desk's transparency, for the student, after the
/// lesson's "discover" phase; `lab: off` in garden.yaml turns it off.
enum LabPage {
    /// The address typed (`url=`), decoded from the query; nil when none was given.
    static func address(inQuery query: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "url" else { continue }
            // Form decoding as the desk's forms: `+` is a space, then %XX (kept as typed if malformed).
            let raw = parts[1].replacingOccurrences(of: "+", with: " ")
            let value = (raw.removingPercentEncoding ?? raw).trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { return nil }
            return value.contains("://") ? value : "http://" + value
        }
        return nil
    }

    /// What the censor does with a planned request, in words, as `probe` names it.
    static func censorship(_ plan: ExchangePlan) -> String {
        let decision = plan.decision
        let by = decision.map { $0.ruleID == "default" ? " (no rule: the default)" : " (rule \($0.ruleID): “\($0.reason)”)" } ?? ""
        let throttle = decision?.effects.lazy.compactMap { effect -> Throttle? in
            if case .throttle(let settings) = effect { return settings }
            return nil
        }.first
        let slowed = throttle.map { " — and throttled: \($0.description)" } ?? ""
        switch plan.answer {
        case .censor:
            switch decision?.action {
            case .block: return "blocked: a block page (403)" + by
            case .unavailable: return "unavailable for legal reasons (HTTP 451)" + by
            case .notFound: return "a fake “this address does not exist” (404): the site is hidden" + by
            case .redirect(let location): return "redirected to \(location)" + by
            case .drop: return "the connection is dropped, without an answer" + by
            case .reset: return "the connection is reset" + by
            case .stall: return "the connection stalls: nothing ever comes back" + by
            case .authenticate: return "you must sign in first" + by
            case .allow, nil: return "none" + by
            }
        case .rewrittenFile: return "the page is rewritten before you see it (words changed or links cut)" + slowed
        case .file, .moved: return "none: the page as the site has it" + by + slowed
        case .missing: return "none: the site has no such page (404)" + by
        case .unknownHost: return "no such address on the national network (404)" + by
        case .fetch, .tunnel: return "none: it comes from the real internet" + by + slowed
        case .siteTunnel: return "none: an encrypted tunnel to the site; the censor saw only its name" + by + slowed
        case .challenge, .checkPassword: return "you must sign in first" + by
        case .refuse(let status, let reason, _): return "refused (\(status.code)): \(reason)"
        case .proxyAutoConfig, .lab, .signIn, .authorityCertificate: return "none: a page of the garden itself"
        }
    }

    /// The control: whether the page is there at all, as the site has it.
    static func control(_ plan: ExchangePlan, content: SiteContent?, path: RequestPath?) -> String {
        guard let content, let path else {
            return "The garden has no site at this address: there is nothing to censor or to see."
        }
        switch content.resolve(path) {
        case .file(let file): return "The page exists on its site: \(file.body.readableBytes) bytes of \(file.contentType)."
        case .redirect(let location): return "The address is a folder of its site (\(location))."
        case .notFound: return "The site has no page at this address."
        }
    }

    static func html(
        address: String?, censorship: String?, control: String?, recent: [AuditEvent], visitorClass: String
    ) -> String {
        var rows = ""
        for event in recent {
            let time = RFC3339.format(milliseconds: event.time).dropFirst(11).prefix(8)
            let what = event.action + (event.rule.map { " (\($0))" } ?? "") + (event.effects.isEmpty ? "" : " +" + event.effects.joined(separator: " +"))
            rows += "<tr><td>\(time)</td><td>\(HTMLText.escape(event.method)) \(HTMLText.escape(event.url))</td><td>\(HTMLText.escape(what))</td><td>\(event.status)</td></tr>"
        }
        let result = address.map { address in
            """
            <h2>\(HTMLText.escape(address))</h2>
            <p><strong>The control:</strong> \(HTMLText.escape(control ?? ""))</p>
            <p><strong>What the censor does for you (\(HTMLText.escape(visitorClass))):</strong> \(HTMLText.escape(censorship ?? ""))</p>
            """
        } ?? ""
        return """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The lab</title>
            <style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
            input[name=url]{width:28rem;font-size:1rem}table{border-collapse:collapse}td{border-bottom:1px solid #ddd;padding:.2rem .6rem}</style>
            </head><body>
            <h1>The lab: what does the censor do?</h1>
            <form method="get" action="/lab"><label>Address <input name="url" value="\(HTMLText.escape(address ?? ""))" placeholder="worldnews.example"></label> <button>Look</button></form>
            \(result)
            <h2>Your recent requests</h2>
            \(rows.isEmpty ? "<p>None yet.</p>" : "<table><tr><th>time</th><th>request</th><th>what the censor did</th><th>status</th></tr>\(rows)</table>")
            <p><a href="/">Back to the portal</a></p>
            </body></html>
            """
    }
}
