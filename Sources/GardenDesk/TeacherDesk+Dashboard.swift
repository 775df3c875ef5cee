import Crypto
import Foundation
import GardenAudit
import GardenPolicy
import GardenServer
import GardenTeaching
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The desk's dashboard: live feed, trace, Now, Policy, Switches, metrics.
extension TeacherDesk {
    func addDashboardRoutes(to router: Router<TeacherRequestContext>) {
        router.get("desk.js") { [self] request, _ in
            // Like every route but the login page and /healthz, only for a session.
            guard session(of: request) != nil else { return Response(status: .unauthorized) }
            return Response(
                status: .ok,
                headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: DeskScript.source))
            )
        }
        router.get("feed") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return feedPage(session: session)
        }
        router.get("feed/events") { [self] request, _ in
            guard session(of: request) != nil else { return Response(status: .unauthorized) }
            return feedEvents(request)
        }
        router.get("trace/:id") { [self] request, context in
            guard session(of: request) != nil else { return Response(status: .unauthorized) }
            return trace(id: context.parameters.get("id", as: Int.self))
        }
        router.get("now") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return nowPage(session: session)
        }
        router.get("policy") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return policyPage(session: session)
        }
        router.get("switches") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return switchesPage(session: session, problem: nil)
        }
        router.post("switches") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return try await flipSwitch(request, session: session)
        }
        router.get("metrics") { [self] request, context in
            if session(of: request) == nil {
                switch await metricsCredentials(request, client: context.remoteAddress?.ipAddress ?? "unknown") {
                case .good:
                    break
                case .wait(let wait):
                    return Response(status: .tooManyRequests, headers: [.retryAfter: "\(Int(wait.components.seconds) + 1)"])
                case .busy:
                    return Response(status: .serviceUnavailable, headers: [.retryAfter: "1"])
                case .bad:
                    return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"teacher\", charset=\"UTF-8\""])
                }
            }
            let text = audit?.metrics.exposition(openConnections: openConnections(), feedViewers: audit?.feed.viewerCount ?? 0) ?? ""
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }

    // MARK: - Live feed

    func feedPage(session: TeacherSessions.Session) -> Response {
        let config = currentConfig()
        let classes = config.policy.classes.keys.sorted().map { "<option>\(Self.escape($0))</option>" }.joined()
        let actions = (["allow"] + CensorStyle.names.filter { $0 != "allow" } + ["refused"]).map { "<option>\($0)</option>" }.joined()
        return Self.page(status: .ok, title: "Live feed", session: session, script: true, body: """
            <p class="filters">
            <label>Class <select id="filter-class"><option value="">all</option>\(classes)</select></label>
            <label>Host <input id="filter-host" size="20" placeholder="part of a host"></label>
            <label>Action <select id="filter-action"><option value="">all</option><option value="censored">censored</option>\(actions)</select></label>
            <label><input id="filter-background" type="checkbox"> background traffic (tunnels to hosts that are not sites, browsers' own checks)</label>
            <button id="pause" type="button">Pause</button> <span id="status">connecting…</span>
            </p>
            <div id="events" data-feed="/feed/events"></div>
            <h2>Why? <small>(click an event)</small></h2>
            <div id="trace"></div>
            """)
    }

    /// Server-sent events: the last 50 events, then each as it happens (at most 100 a
    /// second: beyond that an `event: skipped` says how many were left out); a comment
    /// line every 15 s keeps proxies from closing the stream (and finds viewers who left).
    func feedEvents(_ request: Request) -> Response {
        guard let audit else { return Response(status: .serviceUnavailable) }
        let lastSeen = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap(Int.init)
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let (history, batches) = audit.feed.subscribe(history: 50)
            // A reconnecting browser sends the last id it saw: send only what it missed.
            let missed = history.filter { $0.id > (lastSeen ?? 0) }
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n" + missed.map(\.serverSentEvent).joined()))
            for await batch in batches {
                if Task.isCancelled { break }
                try await writer.write(batch.text)
            }
            try await writer.finish(nil)
        })
    }

    /// What the feed shows when an event is clicked: the event as logged, and `explain`
    /// of the same request under the policy in force now.
    func trace(id: Int?) -> Response {
        guard let id, let entry = audit?.feed.entry(id) else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "That event is no longer kept (the feed keeps the last \(LiveFeed.historySize)).\n")))
        }
        let event = entry.event
        var lines = [
            "\(RFC3339.format(milliseconds: event.time))  \(event.client)\(event.account.map { " (\($0))" } ?? "") as \(event.visitorClass) via \(event.listener)",
            "\(event.method) \(event.url) → \(event.action)\(event.rule.map { " by rule \($0)" } ?? ""), status \(event.status), \(event.bytes) bytes, \(event.durationMicroseconds) µs",
        ]
        if !event.effects.isEmpty { lines.append("Effects: \(event.effects.joined(separator: ", "))") }
        for shadow in event.shadow { lines.append("Shadow rule \(shadow.rule) would have done: \(shadow.action)") }
        lines.append("")
        if event.rule == nil {
            lines.append("The request was refused before the policy saw it (malformed, or a sign-in that failed).")
        } else {
            // Planned again as the data plane would plan it now.
            let config = currentConfig()
            let visit = Visit(
                url: event.url, method: event.method, persona: event.visitorClass, account: event.account,
                clientAddress: IPAddressRange.parseAddress(event.client), time: event.time / 1000
            )
            if let planned = try? VisitPlanner(sites: SiteFolders(config: config, directory: sitesDirectory)).plan(visit) {
                lines.append("The same request under the policy in force now:")
                lines += VisitExplanation(visit: visit, planned: planned, config: config, howClassWasFound: "as logged").lines
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n"))
        )
    }

    // MARK: - Now

    func nowPage(session: TeacherSessions.Session) -> Response {
        guard let audit else {
            return Self.page(status: .ok, title: "Now", session: session, body: "<p>No garden is attached to this desk.</p>")
        }
        let now = audit.statistics.snapshot()
        func tallyRows(_ rows: [(name: String, tally: DeskStatistics.Tally)]) -> String {
            rows.prefix(20).map { row in
                "<tr><td>\(Self.escape(row.name))</td><td class=\"n\">\(row.tally.total)</td><td class=\"n ok\">\(row.tally.allowed)</td><td class=\"n bad\">\(row.tally.censored)</td></tr>"
            }.joined()
        }
        let peak = max(now.lastMinute.max() ?? 0, 1)
        let bars = now.lastMinute.map { "<span class=\"bar\" style=\"width:\(max(1, $0 * 6 / peak))px;height:\(2 + $0 * 40 / peak)px\" title=\"\($0)\"></span>" }.joined()
        let blocked = now.topBlockedHosts.map { "<tr><td>\(Self.escape($0.host))</td><td class=\"n\">\($0.count)</td></tr>" }.joined()
        let dropped = audit.droppedEvents
        return Self.page(status: .ok, title: "Now", session: session, head: "<meta http-equiv=\"refresh\" content=\"2\">", body: """
            <p><strong>\(String(format: "%.1f", now.requestsPerSecond))</strong> requests per second (last 5 s) ·
            <strong>\(openConnections())</strong> open connections · \(audit.feed.viewerCount) feed viewers\(dropped > 0 ? " · <span class=\"bad\">\(dropped) audit events dropped (queue full)</span>" : "")</p>
            <p>Last minute: \(bars)</p>
            <h2>Last 5 minutes: \(now.total.total) requests, \(now.total.allowed) allowed, \(now.total.censored) censored</h2>
            \(Self.classChart(now.classSeries))
            <table class="grid"><tr><th>Class</th><th>requests</th><th>allowed</th><th>censored</th></tr>\(tallyRows(now.byClass))</table>
            <table class="grid"><tr><th>Site</th><th>requests</th><th>allowed</th><th>censored</th></tr>\(tallyRows(now.bySite))</table>
            <h2>Most blocked hosts</h2>
            \(blocked.isEmpty ? "<p>None.</p>" : "<table class=\"grid\"><tr><th>Host</th><th>blocked</th></tr>\(blocked)</table>")
            <p><small>Censored: every answer but a plain allow (block pages, 451, fake not-found, redirects, drops, sign-in prompts) and pages the censor rewrote.</small></p>
            """)
    }

    // MARK: - Policy

    func policyPage(session: TeacherSessions.Session) -> Response {
        let config = currentConfig()
        let policy = config.policy
        let hits = audit?.statistics.ruleHits ?? [:]
        var body = "<p>\(Self.wayOut(config.upstream))</p>"
        if let reloader {
            let errors = reloader.lastErrors
            if let last = reloader.lastReload {
                let when = RFC3339.format(milliseconds: last.time)
                body += last.succeeded
                    ? "<p class=\"ok\">Last reload: \(when), \(Self.escape(last.reason)) — in force.</p>"
                    : "<p class=\"bad\">Last reload: \(when), \(Self.escape(last.reason)) — <strong>refused</strong>; the garden still serves the policy below.</p>"
            } else {
                body += "<p>No reload since the garden started.</p>"
            }
            if !errors.isEmpty {
                body += "<h2 class=\"bad\">Why the last edit did not take</h2><pre class=\"summary bad\">\(Self.escape(errors.joined(separator: "\n")))</pre>"
            }
        }
        var rows = ""
        for rule in policy.allRules {
            let conditions = rule.conditions.map { Self.escape($0.wording) }.joined(separator: "<br>")
            var does = rule.action.map { Self.escape($0.description) } ?? ""
            if !rule.effects.isEmpty { does += (does.isEmpty ? "" : "<br>") + "effects: " + Self.escape(rule.effects.map(\.description).joined(separator: ", ")) }
            let state: String
            if let switchID = policy.switchedOff[rule.id] {
                state = "off (switch \(Self.escape(switchID)))"
            } else {
                state = rule.shadow ? "shadow: reported only" : "on"
            }
            let counted = hits[rule.id] ?? DeskStatistics.RuleHits()
            rows += """
                <tr><td>\(Self.escape(rule.id))</td><td>\(conditions.isEmpty ? "every request" : conditions)</td><td>\(does)</td>\
                <td>\(Self.escape(rule.reason))</td><td>\(state)</td><td class="n">\(counted.hits)</td><td class="n">\(counted.shadowHits)</td></tr>
                """
        }
        let defaultHits = hits["default"]?.hits ?? 0
        rows += "<tr><td>default</td><td>no rule decided</td><td>\(Self.escape(policy.defaultAction.description))</td><td>\(Self.escape(policy.defaultReason))</td><td>on</td><td class=\"n\">\(defaultHits)</td><td class=\"n\"></td></tr>"
        body += """
            <p>Rules are read top to bottom; the first that applies and has an action decides. Hits count since the policy was last put in force.</p>
            <table class="grid"><tr><th>Rule</th><th>Applies when</th><th>Does</th><th>Reason</th><th>State</th><th>hits</th><th>shadow hits</th></tr>\(rows)</table>
            """
        return Self.page(status: .ok, title: "Policy", session: session, body: body)
    }

    /// Whether allowed requests for hosts without a site reach the real internet, in words.
    static func wayOut(_ upstream: UpstreamSettings) -> String {
        guard upstream.mode == .direct else {
            return "Way out: <strong>none</strong> — hosts without a site do not exist for anyone (upstream is off in garden.yaml)."
        }
        let who = upstream.classes.map { "for " + $0.sorted().map(escape).joined(separator: ", ") } ?? "for every class the rules let out"
        let reading = upstream.inspectLimitBytes > 0
            ? "pages up to \(upstream.inspectLimitBytes / 1024) KiB are read by the censor when a rule looks at words or rewrites"
            : "pages from outside are not read"
        return "Way out: <strong>the real internet</strong>, \(who); \(reading)."
    }

    // MARK: - Switches

    func switchesPage(session: TeacherSessions.Session, problem: String?) -> Response {
        let policy = currentConfig().policy
        var body = problem.map { "<p class=\"bad\">\(Self.escape($0))</p>" } ?? ""
        if policy.switches.isEmpty {
            body += "<p>policy.yaml declares no switches. Add some under <code>switches:</code>, for example:</p><pre class=\"summary\">switches:\n  exam-day:\n    title: Exam-day shutdown\n    rules: [exam-time-shutdown]\n    default: off</pre>"
        }
        for item in policy.switches {
            let rules = item.ruleIDs.map(Self.escape).joined(separator: ", ")
            body += """
                <form method="post" action="/switches" class="switch">
                <input type="hidden" name="csrf" value="\(session.csrf)"><input type="hidden" name="switch" value="\(Self.escape(item.id))">
                <input type="hidden" name="state" value="\(item.isOn ? "off" : "on")">
                <strong>\(Self.escape(item.title))</strong> — <span class="\(item.isOn ? "bad" : "ok")">\(item.isOn ? "ON" : "off")</span>
                (rules: \(rules)) <button>Turn \(item.isOn ? "off" : "on")</button>
                </form>
                """
        }
        if configDirectory != nil {
            let file = reloader?.directory.switchesFile ?? "Config/switches.yaml"
            body += "<p><small>Clicking writes \(Self.escape(file)); the garden reloads it at once.</small></p>"
        }
        return Self.page(status: problem == nil ? .ok : .badRequest, title: "Switches", session: session, body: body)
    }

    /// Writes the new state to switches.yaml (whole, by rename) and reloads.
    func flipSwitch(_ request: Request, session: TeacherSessions.Session) async throws -> Response {
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], Self.constantTimeEqual(csrf, session.csrf) else {
            return Self.expiredForm()
        }
        let policy = currentConfig().policy
        guard let id = form["switch"], policy.switches.contains(where: { $0.id == id }),
              let state = form["state"], state == "on" || state == "off"
        else {
            return switchesPage(session: session, problem: "No such switch.")
        }
        guard let configDirectory else {
            return switchesPage(session: session, problem: "This desk does not know the configuration folder.")
        }
        let states = policy.switches.map { ($0.id, $0.id == id ? state == "on" : $0.isOn) }
        // The garden's own switches.yaml, or the running lesson's switches.NAME.yaml.
        let path = reloader?.directory.switchesFile ?? (configDirectory as NSString).appendingPathComponent("switches.yaml")
        do {
            try Data(Policy.switchesFile(states).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            return switchesPage(session: session, problem: "Cannot write \(path): \(error.localizedDescription)")
        }
        logger.notice("switch turned \(state)", metadata: ["switch": "\(id)"])
        if let reloader {
            let reloaded = try await NIOThreadPool.singleton.runIfActive { reloader.reload(reason: "switch \(id) turned \(state) on the desk") }
            if !reloaded {
                return switchesPage(session: session, problem: "switches.yaml was written, but the configuration has errors; see Policy.")
            }
        }
        return Response(status: .seeOther, headers: [.location: "/switches"])
    }

    // MARK: - Metrics

    /// What a `/metrics` request's credentials come to.
    enum MetricsCredentials {
        case good
        case bad
        /// Too many wrong guesses from this address: wait this long.
        case wait(Duration)
        /// The desk's password thread has too much waiting.
        case busy
    }

    /// `Authorization: Basic` with any name and the teacher's password. Guesses back off
    /// like those on the login page, counted before the password is hashed.
    func metricsCredentials(_ request: Request, client: String) async -> MetricsCredentials {
        guard let field = request.headers[.authorization], let credentials = BasicCredentials(fieldValue: field),
              let hash = passwordHash
        else { return .bad }
        // Remembered with the hash they matched: a new password forgets them.
        let remembered = field + "\u{0}" + hash.description
        if checkedMetricsCredentials.knows(remembered) { return .good }
        if let wait = sessions.reserveLoginAttempt(client: client) { return .wait(wait) }
        guard let good = await passwords.verify(credentials.password, against: hash) else {
            sessions.giveBackLoginAttempt(client: client)
            return .busy
        }
        guard good else { return .bad }
        sessions.forgiveAttempts(client: client)
        checkedMetricsCredentials.remember(remembered)
        return .good
    }
}

/// Authorization headers already checked for `/metrics`, kept as HMACs (never the
/// password) under a key made when the desk starts.
final class MetricsCredentialMemo: Sendable {
    private let key = SymmetricKey(size: .bits256)
    private let known = Mutex<Set<Data>>([])

    func knows(_ field: String) -> Bool {
        let mac = Data(HMAC<SHA256>.authenticationCode(for: Data(field.utf8), using: key))
        return known.withLock { $0.contains(mac) }
    }

    func remember(_ field: String) {
        let mac = Data(HMAC<SHA256>.authenticationCode(for: Data(field.utf8), using: key))
        known.withLock { set in
            if set.count > 64 { set.removeAll() }
            set.insert(mac)
        }
    }
}
