import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// The desk's Class page (`/class`): the roster of classroom.yaml with each student's
/// class now, who is signed in, a live move to another class ("now you are an official:
/// look again"), and the sign-in cards.
extension TeacherDesk {
    func addClassRoutes(to router: Router<TeacherRequestContext>) {
        router.get("class") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return classPage(session: session, problem: nil)
        }
        router.post("class/move") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return try await moveStudent(request, session: session)
        }
        router.post("class/sign-out") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return try await signOutStudent(request, session: session)
        }
        router.post("class/passwords") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return try await makePasswords(request, session: session)
        }
    }

    func classPage(session: TeacherSessions.Session, problem: String?) -> Response {
        let config = currentConfig()
        let roster = config.roster
        var body = problem.map { "<p class=\"bad\">\(Self.escape($0))</p>" } ?? ""
        guard !roster.students.isEmpty else {
            body += """
                <p>No class roster yet. Write the students in <code>Config/classroom.yaml</code>, each with the class they \
                start in, and save; the garden reads it at once:</p>
                <pre class="summary">students:\n  ri-su-jong: citizen\n  kim-ok-sun: citizen\n  pak-chol-min: official</pre>
                """
            return Self.page(status: problem == nil ? .ok : .badRequest, title: "Class", session: session, body: body)
        }
        let signedIn = students?.signedIn() ?? [:]
        let moves = students?.moves ?? [:]
        let classes = config.policy.classes.keys.sorted()
        var rows = ""
        for student in roster.students {
            let now = moves[student.name] ?? student.visitorClass
            let options = classes.map { "<option\($0 == now ? " selected" : "")>\(Self.escape($0))</option>" }.joined()
            let moved = moves[student.name].map { _ in " <span class=\"bad\">moved</span>" } ?? ""
            let who = signedIn[student.name].map { entry in
                "yes" + (entry.addresses.isEmpty ? "" : " (\(entry.addresses.map(Self.escape).joined(separator: ", ")))")
            } ?? "—"
            let signOut = signedIn[student.name] == nil ? "" : """
                <form method="post" action="/class/sign-out" class="inline"><input type="hidden" name="csrf" value="\(session.csrf)">\
                <input type="hidden" name="student" value="\(Self.escape(student.name))"><button>Sign out</button></form>
                """
            rows += """
                <tr><td>\(Self.escape(student.name))</td><td>\(Self.escape(student.visitorClass))</td>\
                <td><form method="post" action="/class/move" class="inline"><input type="hidden" name="csrf" value="\(session.csrf)">\
                <input type="hidden" name="student" value="\(Self.escape(student.name))"><select name="class" aria-label="class of \(Self.escape(student.name))">\(options)</select> \
                <button>Move</button></form>\(moved)</td><td>\(who) \(signOut)</td><td>\(student.hasPassword ? "yes" : "<span class=\"bad\">not yet</span>")</td></tr>
                """
        }
        let withoutPassword = roster.students.filter { !$0.hasPassword }.count
        body += """
            <p>Students sign in at the portal's <code>/sign-in</code> with their card. A move takes effect at their next \
            click, and lasts until you move them back or the garden stops; classroom.yaml is not changed.</p>
            <table class="roster"><tr><th>student</th><th>class in classroom.yaml</th><th>class now</th><th>signed in</th><th>password</th></tr>
            \(rows)</table>
            <h2>Sign-in cards</h2>
            <form method="post" action="/class/passwords"><input type="hidden" name="csrf" value="\(session.csrf)">\
            <input type="hidden" name="scope" value="missing"><button>Make passwords and cards for the \(withoutPassword) without one</button></form>
            <form method="post" action="/class/passwords"><input type="hidden" name="csrf" value="\(session.csrf)">\
            <input type="hidden" name="scope" value="everyone"><button>New passwords for everyone (the old ones stop working)</button></form>
            <p><small>The passwords are shown once, on a page to print; the garden keeps only their hashes \
            (Config/classroom-passwords). From a terminal: <code>walled-garden classroom passwords</code>.</small></p>
            """
        return Self.page(status: problem == nil ? .ok : .badRequest, title: "Class", session: session, head: "<style>\(Self.classCSS)</style>", body: body)
    }

    /// Puts a student in another class (or back in their own), live.
    func moveStudent(_ request: Request, session: TeacherSessions.Session) async throws -> Response {
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], Self.constantTimeEqual(csrf, session.csrf) else { return Self.expiredForm() }
        let config = currentConfig()
        guard let students, let name = form["student"], let student = config.roster.student(named: name) else {
            return classPage(session: session, problem: "No such student.")
        }
        guard let visitorClass = form["class"], config.policy.classes[visitorClass] != nil else {
            return classPage(session: session, problem: "No such class.")
        }
        students.move(name, to: visitorClass == student.visitorClass ? nil : visitorClass)
        logger.notice("student moved", metadata: ["student": "\(name)", "class": "\(visitorClass)"])
        return Response(status: .seeOther, headers: [.location: "/class"])
    }

    func signOutStudent(_ request: Request, session: TeacherSessions.Session) async throws -> Response {
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], Self.constantTimeEqual(csrf, session.csrf) else { return Self.expiredForm() }
        if let name = form["student"] { students?.endSessions(of: name) }
        return Response(status: .seeOther, headers: [.location: "/class"])
    }

    /// Makes the passwords, keeps their hashes, reloads, and shows the cards once.
    func makePasswords(_ request: Request, session: TeacherSessions.Session) async throws -> Response {
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], Self.constantTimeEqual(csrf, session.csrf) else { return Self.expiredForm() }
        guard let configDirectory else { return classPage(session: session, problem: "This desk does not know the configuration folder.") }
        let config = currentConfig()
        let everyone = form["scope"] == "everyone"
        let rounds = passwordCost
        let cards: [ClassroomPasswords.Card]
        do {
            // scrypt: a tenth of a second per student, off the event loops.
            cards = try await NIOThreadPool.singleton.runIfActive {
                try ClassroomPasswords.make(for: config.roster, in: ConfigDirectory(path: configDirectory), everyone: everyone, logRounds: rounds)
            }
        } catch {
            return classPage(session: session, problem: "The passwords could not be kept: \(error)")
        }
        logger.notice("students' passwords made", metadata: ["count": "\(cards.count)", "everyone": "\(everyone)"])
        if let reloader {
            _ = try await NIOThreadPool.singleton.runIfActive { reloader.reload(reason: "the students' passwords were made on the desk") }
        }
        if everyone { for student in config.roster.students { students?.endSessions(of: student.name) } }
        let html = SignInCards.html(cards: cards, addresses: SignInCards.addresses(config))
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func expiredForm() -> Response {
        page(status: .forbidden, title: "Forbidden", body: "<p>The form has expired; go back and try again.</p>")
    }

    static let classCSS = """
        table.roster{border-collapse:collapse}table.roster td,table.roster th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}\
        form.inline{display:inline}
        """
}
