#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GardenPolicy
import GardenSites

/// What a request to the portal's sign-in form asks.
enum SignInStep: Equatable {
    /// GET `/sign-in`: the form, or who is signed in.
    case show
    /// POST `/sign-in`: a name and password follow as a form.
    case submit
    /// POST `/sign-out`.
    case signOut
}

/// Students signed in with the portal's form (`StudentSessions`).
extension ExchangePlanner {
    /// The student this request comes from: the session in its cookie, else the one
    /// bound to its address (a machine other than the teacher's).
    func signedInStudent(_ head: RequestHead, students: StudentSessions, policy: Policy) -> StudentSessions.Session? {
        if let cookie = head.cookie, let token = FormFields.cookie(StudentSessions.sessionCookie, in: cookie),
           let session = students.session(token: token, accounts: policy.accounts) {
            return session
        }
        guard let clientAddress else { return nil }
        return students.session(boundTo: clientAddress, accounts: policy.accounts)
    }

    /// The sign-in form's answer, when the request is for the portal's `/sign-in` or
    /// `/sign-out` (at the garden's own address, by the portal's name, through the proxy,
    /// or in the gateway form): the garden's, never the censor's, so that anyone can sign
    /// in. Nil for every other request.
    func signInAnswer(
        _ head: RequestHead, target: RequestTarget, registry: SiteRegistry, session: StudentSessions.Session?
    ) -> ExchangePlan.Answer? {
        // Two suffix checks on the bytes: most requests are not for the form.
        guard students != nil, Self.target(head.target, endsWith: "/sign-in") || Self.target(head.target, endsWith: "/sign-out"),
              head.method != .connect
        else { return nil }
        let isSignIn = target.pathAndQuery == "/sign-in"
        guard isSignIn || target.pathAndQuery == "/sign-out", registry.site(for: target.host)?.host == registry.portalHost else { return nil }
        switch head.method {
        case .get where isSignIn, .head where isSignIn:
            return .signIn(.show, session: session)
        case .other("POST"):
            return .signIn(isSignIn ? .submit : .signOut, session: session)
        default:
            return .refuse(
                .methodNotAllowed, reason: "\(head.method) is not how the sign-in form is used",
                extraHeaders: isSignIn ? "Allow: GET, HEAD, POST\r\n" : "Allow: POST\r\n"
            )
        }
    }

    /// Whether the request target ends with `suffix`, compared byte by byte (ASCII): not
    /// by `Character`, whose grapheme breaking is paid on every request.
    static func target(_ target: String, endsWith suffix: StaticString) -> Bool {
        let count = suffix.utf8CodeUnitCount
        guard target.utf8.count >= count else { return false }
        // The string's own bytes when it has them in one piece (no copy of the string).
        let compared = target.utf8.withContiguousStorageIfAvailable { bytes in
            suffix.withUTF8Buffer { suffix in memcmp(bytes.baseAddress! + bytes.count - count, suffix.baseAddress!, count) == 0 }
        }
        return compared ?? suffix.withUTF8Buffer { target.utf8.suffix(count).elementsEqual($0) }
    }
}
