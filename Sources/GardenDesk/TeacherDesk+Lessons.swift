import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// The desk's Lessons page (`/lessons`): the lesson packs, the one running, a click to
/// start one (or end it) live, and each pack's guide and worksheet, ready to print.
extension TeacherDesk {
    func addLessonRoutes(to router: Router<TeacherRequestContext>) {
        router.get("lessons") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return lessonsPage(session: session, problem: nil)
        }
        router.post("lessons") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return try await useLesson(request, session: session)
        }
        router.post("lessons/reset-switches") { [self] request, _ in
            guard let session = session(of: request) else { return Self.toLogin() }
            return try await resetLessonSwitches(request, session: session)
        }
        router.get("lessons/:name/:document") { [self] request, context in
            guard let session = session(of: request) else { return Self.toLogin() }
            return lessonDocument(name: context.parameters.get("name") ?? "", document: context.parameters.get("document") ?? "", session: session)
        }
    }

    func lessonsPage(session: TeacherSessions.Session, problem: String?) -> Response {
        var body = problem.map { "<pre class=\"bad\">\(Self.escape($0))</pre>" } ?? ""
        guard let lessonsDirectory else {
            body += "<p>This desk does not know where the lesson packs are.</p>"
            return Self.page(status: .ok, title: "Lessons", session: session, body: body)
        }
        let (packs, problems) = LessonPack.all(in: lessonsDirectory)
        let running = reloader?.lesson
        body += running.map { "<p>Running now: <strong>\(Self.escape($0.manifest.title))</strong> (\(Self.escape($0.name))).</p>" }
            ?? "<p>Running now: the garden's own policy (Config/policy.yaml), no lesson.</p>"
        for problem in problems { body += "<p class=\"bad\">\(Self.escape(problem.description))</p>" }
        for pack in packs {
            let isRunning = pack.name == running?.name
            let action = isRunning
                ? "<input type=\"hidden\" name=\"lesson\" value=\"\"><button>End this lesson</button>"
                : "<input type=\"hidden\" name=\"lesson\" value=\"\(Self.escape(pack.name))\"><button>Start this lesson</button>"
            // A switch clicked in the last class stays as it was: one click sets them back.
            let reset = isRunning
                ? "<form method=\"post\" action=\"/lessons/reset-switches\"><input type=\"hidden\" name=\"csrf\" value=\"\(session.csrf)\">"
                    + "<button>Set its switches back to how the lesson starts</button></form>"
                : ""
            let documents = ["guide": "Teacher's guide", "worksheet": "Worksheet"].sorted { $0.key < $1.key }
                .filter { pack.has("\($0.key).md") }
                .map { "<a href=\"/lessons/\(Self.escape(pack.name))/\($0.key)\">\($0.value)</a>" }.joined(separator: " · ")
            body += """
                <section class="lesson\(isRunning ? " running" : "")"><h2>\(Self.escape(pack.manifest.title))</h2>
                <p><small>\(Self.escape(pack.name)) · \(pack.manifest.minutes) minutes</small></p>
                <p>\(Self.escape(pack.manifest.summary))</p>
                <p>\(documents)</p>
                <form method="post" action="/lessons"><input type="hidden" name="csrf" value="\(session.csrf)">\(action)</form>\(reset)</section>
                """
        }
        if packs.isEmpty { body += "<p>No lesson packs in \(Self.escape(lessonsDirectory)).</p>" }
        body += "<p><small>Starting a lesson puts its policy, lists and switches in force at once, whole or not at all; the class roster and the sites stay. From a terminal: <code>walled-garden serve --lesson NAME</code>.</small></p>"
        return Self.page(status: problem == nil ? .ok : .badRequest, title: "Lessons", session: session, head: "<style>\(Self.lessonCSS)</style>", body: body)
    }

    /// Starts the lesson named in the form (none: the garden's own policy).
    func useLesson(_ request: Request, session: TeacherSessions.Session) async throws -> Response {
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], Self.constantTimeEqual(csrf, session.csrf) else { return Self.expiredForm() }
        guard let lessonsDirectory, let reloader else { return lessonsPage(session: session, problem: "This desk cannot change the lesson.") }
        let name = form["lesson"] ?? ""
        let pack: LessonPack?
        do {
            pack = name.isEmpty ? nil : try LessonPack.named(name, in: lessonsDirectory)
        } catch {
            return lessonsPage(session: session, problem: error.description)
        }
        let errors = try await NIOThreadPool.singleton.runIfActive { reloader.useLesson(pack) }
        guard errors.isEmpty else {
            return lessonsPage(session: session, problem: "The lesson has errors; nothing changed:\n" + errors.joined(separator: "\n"))
        }
        logger.notice("lesson changed", metadata: ["lesson": "\(name.isEmpty ? "none" : name)"])
        return Response(status: .seeOther, headers: [.location: "/lessons"])
    }

    /// Forgets the switches clicked during the running lesson (its `switches.NAME.yaml`),
    /// so that they are as the pack starts them, and reloads.
    func resetLessonSwitches(_ request: Request, session: TeacherSessions.Session) async throws -> Response {
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], Self.constantTimeEqual(csrf, session.csrf) else { return Self.expiredForm() }
        guard let reloader, let lesson = reloader.lesson else { return lessonsPage(session: session, problem: "No lesson is running.") }
        let file = reloader.directory.switchesFile
        if unlink(file) != 0, errno != ENOENT {
            return lessonsPage(session: session, problem: "Cannot remove \(file): \(String(cString: strerror(errno)))")
        }
        let reloaded = try await NIOThreadPool.singleton.runIfActive { reloader.reload(reason: "the lesson \(lesson.name)'s switches were set back") }
        guard reloaded else { return lessonsPage(session: session, problem: "The lesson's files have errors; see Policy.") }
        logger.notice("lesson switches set back", metadata: ["lesson": "\(lesson.name)"])
        return Response(status: .seeOther, headers: [.location: "/lessons"])
    }

    /// A pack's guide or worksheet, as a page to read or print.
    func lessonDocument(name: String, document: String, session: TeacherSessions.Session) -> Response {
        guard let lessonsDirectory, document == "guide" || document == "worksheet",
              let pack = try? LessonPack.named(name, in: lessonsDirectory),
              let data = FileManager.default.contents(atPath: pack.file("\(document).md"))
        else {
            return Self.page(status: .notFound, title: "Not found", session: session, body: "<p>No such lesson document.</p>")
        }
        let html = MarkdownPage.html(String(decoding: data, as: UTF8.self))
        return Self.page(
            status: .ok, title: "\(pack.manifest.title) — \(document == "guide" ? "teacher's guide" : "worksheet")", session: session,
            head: "<style>\(Self.lessonCSS)\(Self.printCSS)</style>", body: "<article class=\"document\">\(html)</article>"
        )
    }

    static let lessonCSS = """
        section.lesson{border:1px solid #ccd;border-radius:6px;padding:.2rem 1rem;margin:1rem 0}section.lesson.running{border:2px solid #2a7}\
        article.document table{border-collapse:collapse;margin:.6rem 0}article.document td,article.document th{border:1px solid #999;padding:.3rem .6rem;vertical-align:top;min-width:6rem}\
        article.document pre{background:#f4f4f4;padding:.5rem;overflow-x:auto}article.document blockquote{border-left:4px solid #ccc;margin-left:0;padding-left:1rem}
        """

    /// Printing a document: the page alone, without the desk around it.
    static let printCSS = """
        @media print{nav,body>h1{display:none}body{margin:0;max-width:none;font-size:11pt}article.document h2{break-after:avoid}\
        article.document table,article.document li{break-inside:avoid}@page{margin:1.5cm}}
        """
}
