import Foundation
import GardenAudit
import GardenPolicy
import GardenServer
import GardenTeaching
import GardenRewrite
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The teacher's desk: the admin plane (Hummingbird), behind a password.
///
/// Every route but `/login` and `/healthz` needs a session; sessions are an `HttpOnly;
/// SameSite=Strict` cookie, every form carries a CSRF token checked on POST, and failed
/// logins from one address back off (1, 2, 4, ... seconds, up to 15 minutes). The
/// password is checked with scrypt off the event loops.
///
/// Pages: the live feed (server-sent events), Now (rates and counts of the last five
/// minutes), Policy (the rules with their hits, the last reload and its errors),
/// Switches, Reveal, and `/metrics` for Prometheus (a session, or HTTP Basic with the
/// teacher's password).
public final class TeacherDesk: Sendable {
    let settings: TeacherSettings
    let sessions = TeacherSessions()
    /// The configuration in force (the reloader's), and where the sites are.
    let currentConfig: @Sendable () -> GardenConfig
    let sitesDirectory: String
    let logger: Logger
    /// The garden's audit events (feed, statistics, metrics); nil shows empty pages.
    let audit: AuditTrail?
    /// The reloader, for the last reload's outcome and errors, and to reload at once
    /// when a switch is clicked.
    let reloader: ConfigReloader?
    /// The configuration folder, where switches.yaml is written.
    let configDirectory: String?
    let openConnections: @Sendable () -> Int
    /// The students signed in on the portal, and their live moves (the Class page); nil
    /// without a garden beside the desk.
    let students: StudentSessions?
    /// scrypt's cost for the students' passwords made on the Class page.
    let passwordCost: Int
    /// Where the lesson packs are (the Lessons page); nil without them.
    let lessonsDirectory: String?
    /// HTTP Basic credentials for `/metrics` already checked, so a scraper costs one
    /// scrypt, not one per scrape: an HMAC of the header under a per-process key.
    let checkedMetricsCredentials = MetricsCredentialMemo()
    /// The desk's own scrypt thread: a flood of wrong logins waits here, never on the
    /// pool that resolves the way out's names, and never ahead of the event loops.
    let passwords = PasswordVerifier(threads: 1, maxWaiting: 8)
    /// The password hash the sessions were made under (see `passwordHash`).
    private let passwordInForce: Mutex<PasswordHash?>

    static let sessionCookie = "garden_teacher"
    static let loginCookie = "garden_login"

    public init(
        settings: TeacherSettings, sitesDirectory: String, logger: Logger, audit: AuditTrail? = nil, reloader: ConfigReloader? = nil,
        configDirectory: String? = nil, openConnections: @escaping @Sendable () -> Int = { 0 }, students: StudentSessions? = nil,
        passwordCost: Int = PasswordHash.defaultLogRounds, lessonsDirectory: String? = nil,
        currentConfig: @escaping @Sendable () -> GardenConfig
    ) {
        self.lessonsDirectory = lessonsDirectory
        self.students = students
        self.passwordCost = passwordCost
        self.settings = settings
        self.sitesDirectory = sitesDirectory
        self.logger = logger
        self.audit = audit
        self.reloader = reloader
        self.configDirectory = configDirectory
        self.openConnections = openConnections
        self.currentConfig = currentConfig
        self.passwordInForce = Mutex(settings.passwordHash)
    }

    /// The password's hash in force: `Config/desk-password` may be replaced while the desk
    /// runs (`walled-garden desk-password`), and the reloader reads it again. A new
    /// password ends every session made under the old one.
    var passwordHash: PasswordHash? {
        let current = currentConfig().teacher?.passwordHash ?? settings.passwordHash
        let changed = passwordInForce.withLock { known in
            defer { known = current }
            return known != current
        }
        if changed { sessions.endAll() }
        return current
    }

    /// Serves until the surrounding task is cancelled. `onReady` gets the bound port.
    public func run(onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(settings.address.host, port: settings.address.port), serverName: "walled-garden-teacher"),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        // Stopping (cancelling this task) shuts the desk down gracefully: the live feeds'
        // streams are ended, requests in flight finish, then the server stops. Cancelling
        // the server itself would cut open connections and log each as an error.
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let running = Task { try await group.run() }
        let feed = audit?.feed
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            feed?.finishAll()
            Task { await group.triggerGracefulShutdown() }
        }
        await passwords.shutdown()
    }

    // MARK: - Routes

    func makeRouter() -> Router<TeacherRequestContext> {
        // HEAD is answered for every page (as GET without the body).
        let router = Router(context: TeacherRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: DeskResponseHeaders())
        router.add(middleware: LargeTypeScope())
        router.get("healthz") { _, _ in Self.text("ok\n") }
        router.get("login") { [self] request, _ in loginPage(problem: nil, status: .ok) }
        router.post("login") { [self] request, context in try await login(request, context: context) }
        router.post("logout") { [self] request, context in try await logout(request, context: context) }
        router.get("/") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return home(session: session)
        }
        router.get("reveal") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return reveal(request, session: session)
        }
        router.get("large") { [self] request, _ in
            guard session(of: request) != nil else { return Self.toLogin() }
            return toggleLargeType(request)
        }
        router.get("matrix") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return matrixPage(session: session)
        }
        addDashboardRoutes(to: router)
        addClassRoutes(to: router)
        addLessonRoutes(to: router)
        return router
    }

    func session(of request: Request) -> TeacherSessions.Session? {
        _ = passwordHash  // a changed password ends the sessions first
        return sessions.session(Self.cookie(Self.sessionCookie, in: request))
    }

    func login(_ request: Request, context: TeacherRequestContext) async throws -> Response {
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        let form = try await Self.form(request)
        // The login form's token must be one we handed out, and match its cookie.
        guard let token = form["csrf"], let cookie = Self.cookie(Self.loginCookie, in: request),
              Self.constantTimeEqual(token, cookie), sessions.takeLoginForm(token)
        else {
            return loginPage(problem: "The form has expired; please try again.", status: .forbidden)
        }
        // The attempt is counted before the password is hashed, so parallel guesses
        // cannot all slip in ahead of the back-off.
        if let wait = sessions.reserveLoginAttempt(client: client) {
            let seconds = Int((Double(wait.components.seconds) + 1).rounded(.down))
            var response = loginPage(problem: "Too many failed logins; try again in \(seconds) s.", status: .tooManyRequests)
            response.headers[.retryAfter] = "\(seconds)"
            return response
        }
        let password = Array((form["password"] ?? "").utf8)
        guard let hash = passwordHash, let correct = await passwords.verify(password, against: hash) else {
            sessions.giveBackLoginAttempt(client: client)
            var response = loginPage(problem: "The desk is busy checking passwords; try again in a moment.", status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            return response
        }
        guard correct else {
            logger.notice("failed teacher login", metadata: ["client": "\(client)"])
            return loginPage(problem: "Wrong password.", status: .unauthorized)
        }
        let (sessionToken, _) = sessions.start(client: client)
        var response = Response(status: .seeOther)
        response.headers[.location] = "/"
        response.headers[values: .setCookie] = [
            "\(Self.sessionCookie)=\(sessionToken); Path=/; HttpOnly; SameSite=Strict",
            "\(Self.loginCookie)=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0",
        ]
        return response
    }

    func logout(_ request: Request, context: TeacherRequestContext) async throws -> Response {
        guard let token = Self.cookie(Self.sessionCookie, in: request), let session = sessions.session(token) else {
            return Self.toLogin()
        }
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], Self.constantTimeEqual(csrf, session.csrf) else {
            return Self.expiredForm()
        }
        sessions.end(token)
        var response = Self.toLogin()
        response.headers[.setCookie] = "\(Self.sessionCookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    // MARK: - Pages

    func loginPage(problem: String?, status: HTTPResponse.Status) -> Response {
        let token = sessions.newLoginForm()
        var response = Self.page(status: status, title: "Teacher's desk — log in", body: """
            <form method="post" action="/login">
            \(problem.map { "<p class=\"problem\">\(Self.escape($0))</p>" } ?? "")
            <input type="hidden" name="csrf" value="\(token)">
            <label>Password <input type="password" name="password" autofocus></label>
            <button>Log in</button>
            </form>
            """)
        response.headers[.setCookie] = "\(Self.loginCookie)=\(token); Path=/login; HttpOnly; SameSite=Strict"
        return response
    }

    func home(session: TeacherSessions.Session) -> Response {
        let config = currentConfig()
        return Self.page(status: .ok, title: "Teacher's desk", session: session, body: """
            <ul class="home">
            <li><a href="/feed">Live feed</a>: every request as it happens; click one for why.</li>
            <li><a href="/now">Now</a>: requests per second, allowed and censored per class and site, the most blocked hosts.</li>
            <li><a href="/policy">Policy</a>: the rules, their hits since the last reload, and why an edit did not take.</li>
            <li><a href="/switches">Switches</a>: turn the lesson's sets of rules on and off.</li>
            <li><a href="/matrix">Who sees what</a>: every class against every site, in colour.</li>
            <li><a href="/reveal">Reveal</a>: what the censor changes in a page.</li>
            <li><a href="/metrics">Metrics</a> for Prometheus.</li>
            </ul>
            \(revealForm(config: config, url: "http://friend.com.kp/", visitorClass: config.policy.defaultClass))
            """)
    }

    // MARK: - HTTP helpers

    static let style = """
        body{font:17px/1.5 system-ui,"Noto Sans","DejaVu Sans",sans-serif;margin:1.5rem auto;max-width:78rem;padding:0 1.5rem;color:#1d1d1f;background:#fbfbfa}
        h1{font-size:1.7rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}a{color:#1a56a8}
        form{margin:1rem 0}.problem{color:#a00}button{font:inherit;padding:.2rem .7rem}
        table.chart{border-collapse:collapse;margin:.5rem 0 1.5rem}table.chart th,table.chart td{padding:2px 10px;text-align:left}
        svg.chart{background:#f1f1ee;border-radius:3px}
        table.diff{border-collapse:collapse;font:12px monospace;width:100%;table-layout:fixed}
        table.diff td{border-top:1px solid #eee;padding:1px 4px;white-space:pre-wrap;word-break:break-all;vertical-align:top}
        td.del{background:#fdd}td.ins{background:#dfd}pre.summary{background:#f6f6f6;padding:.5rem}
        nav{margin:0 0 1rem;padding:.6rem 0;border-bottom:2px solid #ddd}nav a{margin-right:1.2rem;text-decoration:none;font-weight:600}
        nav form.logout{display:inline;margin:0 0 0 1rem}
        table.grid{border-collapse:collapse;margin:.5rem 0 1.5rem}table.grid th,table.grid td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
        td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#070}.bad{color:#a00}
        #events{font:12px monospace;max-height:70vh;overflow:auto;border:1px solid #ddd}
        #events div{padding:2px 6px;cursor:pointer;border-bottom:1px solid #f2f2f2;white-space:pre}
        .a-allow{background:#effaef}.a-block,.a-unavailable{background:#fde8e8}.a-notfound{background:#fdf3e0}
        .a-redirect{background:#e8f0fd}.a-drop,.a-reset,.a-stall{background:#eee;color:#555}.a-authenticate{background:#f5ecfd}
        .a-refused{background:#fafafa;color:#888}.rewritten{font-style:italic}
        #trace{white-space:pre-wrap;background:#f6f6f6;padding:.5rem;font:12px monospace;min-height:2rem}
        .filters label{margin-right:1rem}.bar{display:inline-block;background:#6a8;height:10px;vertical-align:middle}
        """

    /// A desk page. With a session it gets the navigation bar and the logout button;
    /// `script` names a script of the desk's own to load (`/desk.js`).
    static func page(
        status: HTTPResponse.Status, title: String, session: TeacherSessions.Session? = nil, head: String = "", script: Bool = false,
        body: String
    ) -> Response {
        let navigation = session.map { session in
            """
            <nav><a href="/">Desk</a> <a href="/feed">Live feed</a> <a href="/now">Now</a> <a href="/policy">Policy</a> \
            <a href="/switches">Switches</a> <a href="/matrix">Who sees what</a> <a href="/class">Class</a> <a href="/lessons">Lessons</a> <a href="/reveal">Reveal</a> <a href="/metrics">Metrics</a> <a href="/large">\(Self.largeType ? "Normal type" : "Large type")</a>\
            <form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="\(session.csrf)"><button>Log out</button></form></nav>
            """
        } ?? ""
        let html = """
            <!DOCTYPE html><html lang="en"\(Self.largeType ? " class=\"large\"" : "")><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
            <style>\(style)\(largeTypeCSS)</style>\(head)\(script ? "<script src=\"/desk.js\" defer></script>" : "")</head><body>\(navigation)<h1>\(Self.escape(title))</h1>
            \(body)
            </body></html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func text(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func toLogin() -> Response {
        Response(status: .seeOther, headers: [.location: "/login"])
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            if let value = FormFields.cookie(name, in: field) { return value }
        }
        return nil
    }

    /// An `application/x-www-form-urlencoded` body (at most 16 KiB).
    static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 16 * 1024)
        return FormFields.urlEncoded(String(buffer: body))
    }

    /// Escapes text for HTML element content and attribute values.
    static func escape(_ text: String) -> String {
        HTMLText.escape(text)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        FormFields.sameToken(a, b)
    }
}

/// The desk's request context: Hummingbird's basics plus the client's address (for the
/// login back-off).
public struct TeacherRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
