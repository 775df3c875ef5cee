import GardenAudit
import GardenPolicy
import Foundation
import NIOCore

/// The portal's sign-in form (`SignInPage`, `StudentSessions`): the form with a one-use
/// token, the name and password checked by scrypt off the event loop, and the session
/// cookie. The form's token is both a hidden field and a `SameSite=Strict` cookie, and a
/// form sent with an `Origin` must come from the page's own: another site cannot sign a
/// student in (or out) behind their back.
extension GardenHTTPHandler {
    func signIn(_ step: SignInStep, session: StudentSessions.Session?, head: RequestHead, policy: Policy, isHEAD: Bool) {
        switch step {
        case .show:
            if let session {
                sendSignedIn(session, policy: policy, isHEAD: isHEAD)
            } else {
                sendSignInForm(status: .ok, problem: nil, isHEAD: isHEAD)
            }
        case .submit, .signOut:
            guard !head.hasTransferEncoding, let length = head.contentLength else {
                return sendError(.lengthRequired, reason: "the form must be sent with a Content-Length", isHEAD: false, close: true)
            }
            guard length <= SignInPage.maxFormBytes else {
                return sendError(.contentTooLarge, reason: "a sign-in form is at most \(SignInPage.maxFormBytes) bytes", isHEAD: false, close: true)
            }
            guard head.contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
                return sendError(.unsupportedMediaType, reason: "the form must be application/x-www-form-urlencoded", isHEAD: false, close: true)
            }
            if head.expectsContinue, length > 0 {
                var interim = context.channel.allocator.buffer(capacity: 32)
                interim.writeString("HTTP/1.1 100 Continue\r\n\r\n")
                context.writeAndFlush(wrapOutboundOut(interim), promise: nil)
            }
            requestBody = BodyCollection(
                purpose: .signIn(step, head, session: session), remaining: length, collected: context.channel.allocator.buffer(capacity: length)
            )
            if length == 0 {
                var nothing = ByteBuffer()
                takeRequestBody(from: &nothing)
            }
        }
    }

    /// The form's body has come whole.
    func submitted(_ step: SignInStep, form: ByteBuffer, head: RequestHead, session: StudentSessions.Session?) {
        let fields = FormFields.urlEncoded(String(buffer: form))
        if let origin = head.origin, origin != "http://" + (head.host ?? "") {
            return sendSignInForm(status: .forbidden, problem: "The form was sent from another site (\(origin)); sign in here.", isHEAD: false)
        }
        let students = garden.students
        switch step {
        case .show:
            return
        case .signOut:
            if let session, let csrf = fields["csrf"], FormFields.sameToken(csrf, session.csrf) {
                students.end(session: session)
                event?.event.account = session.student
            }
            sendRedirect(to: "sign-in", cookie: "\(StudentSessions.sessionCookie)=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
        case .submit:
            guard let token = fields["form"], let cookie = head.cookie, FormFields.cookie(StudentSessions.formCookie, in: cookie).map({ FormFields.sameToken($0, token) }) == true,
                  students.takeForm(token)
            else {
                return sendSignInForm(status: .forbidden, problem: "The form had expired. Please try again.", isHEAD: false, name: fields["name"] ?? "")
            }
            let name = (fields["name"] ?? "").trimmingCharacters(in: .whitespaces)
            if let wait = students.reserveAttempt(client: clientText) {
                let seconds = max(1, Int(wait.components.seconds))
                return sendSignInForm(
                    status: .tooManyRequests, problem: "Too many wrong tries: wait \(seconds) s, then try again.", isHEAD: false, name: name,
                    extraHeaders: "Retry-After: \(seconds)\r\n"
                )
            }
            let credentials = BasicCredentials(name: name, password: Array((fields["password"] ?? "").utf8))
            let policy = sites.policy
            awaitingCredentialCheck = true
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            garden.credentials.check(credentials, policy: policy, on: context.eventLoop).whenComplete { result in
                handler.value.signInChecked((try? result.get()) ?? .busy, name: name, policy: policy)
            }
        }
    }

    /// The password check is done: the session starts, or the form comes back.
    func signInChecked(_ verdict: CredentialChecker.Verdict, name: String, policy: Policy) {
        awaitingCredentialCheck = false
        guard context != nil, context.channel.isActive else { return }
        let students = garden.students
        switch verdict {
        case .signedIn(let account):
            guard let hash = policy.accounts[account]?.passwordHash else { return sendSignInForm(status: .forbidden, problem: "Wrong name or password.", isHEAD: false) }
            // A machine other than the teacher's is that student for every site it asks for.
            let address = planner.clientAddress.flatMap { GardenItself.isLocal($0) ? nil : $0 }
            let started = students.start(student: account, hash: hash, client: clientText, bindingTo: address)
            event?.event.account = account
            let seconds = Int(students.lifetime.components.seconds)
            sendRedirect(to: "sign-in", cookie: "\(StudentSessions.sessionCookie)=\(started.token); HttpOnly; SameSite=Lax; Path=/; Max-Age=\(seconds)")
        case .rejected:
            sendSignInForm(status: .forbidden, problem: "Wrong name or password.", isHEAD: false, name: name)
        case .busy:
            students.giveBackAttempt(client: clientText)
            sendSignInForm(status: .serviceUnavailable, problem: "Too many sign-ins at once: try again in a moment.", isHEAD: false, name: name,
                           extraHeaders: "Retry-After: 1\r\n")
        }
        continueWithPending()
    }

    /// The form with a new one-use token (also its cookie).
    func sendSignInForm(status: HTTPStatusLine, problem: String?, isHEAD: Bool, name: String = "", extraHeaders: String = "") {
        let token = garden.students.newForm()
        sendFormPage(
            status, html: SignInPage.form(token: token, problem: problem, name: name), isHEAD: isHEAD,
            extraHeaders: extraHeaders + "Set-Cookie: \(StudentSessions.formCookie)=\(token); HttpOnly; SameSite=Strict; Path=/; Max-Age=3600\r\n"
        )
    }

    func sendSignedIn(_ session: StudentSessions.Session, policy: Policy, isHEAD: Bool) {
        let visitorClass = garden.students.movedClass(of: session.student) ?? policy.accounts[session.student]?.visitorClass ?? "?"
        let html = SignInPage.signedIn(
            student: session.student, visitorClass: visitorClass, description: policy.classes[visitorClass], csrf: session.csrf
        )
        sendFormPage(.ok, html: html, isHEAD: isHEAD)
    }

    /// 303 See Other to `location` (relative: it works in every address form), setting `cookie`.
    func sendRedirect(to location: String, cookie: String) {
        sendFormPage(.seeOther, html: sites.pages.moved(to: location), isHEAD: false, extraHeaders: "Location: \(location)\r\nSet-Cookie: \(cookie)\r\n")
    }

    /// A page whose forms may be sent (`GardenPages.formPageHeaderLines`).
    func sendFormPage(_ status: HTTPStatusLine, html: String, isHEAD: Bool, extraHeaders: String = "") {
        var body = context.channel.allocator.buffer(capacity: html.utf8.count)
        body.writeString(html)
        sendBody(status, headerLines: GardenPages.formPageHeaderLines + extraHeaders, body: body, isHEAD: isHEAD)
    }
}
