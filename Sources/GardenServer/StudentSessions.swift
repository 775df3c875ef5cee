import Foundation
import GardenPolicy
import NIOCore
import Synchronization

/// The students signed in with the portal's form, and the teacher's live class moves.
///
/// A sign-in is a session: a random token in an `HttpOnly; SameSite=Lax` cookie, good
/// for the roster's `session:` time. A cookie only travels to the host that set it, and
/// through the proxy each site is a host of its own; so a student who signs in from a
/// machine other than the teacher's is also that student for everything their address
/// asks (as a captive portal does), until they sign out or the session ends. Loopback
/// and the teacher's own machine are never bound so: there, many people share one address.
///
/// Moves ("now you are an official: look again") put a student in another class than
/// classroom.yaml gives, from the desk, until they are moved back or the garden stops.
public final class StudentSessions: Sendable {
    /// One sign-in.
    public struct Session: Sendable {
        public var student: String
        /// For the sign-out form.
        public var csrf: String
        public var expires: ContinuousClock.Instant
        /// The address bound to it, when there is one.
        public var address: [UInt8]?
        /// The digest of the password hash it was made under: a new password ends it.
        var passwordDigest: [UInt8]
    }

    private struct State {
        var sessions: [String: Session] = [:]
        /// Bound addresses to their session's token.
        var byAddress: [[UInt8]: String] = [:]
        /// Sign-in forms handed out (token → when), each good for one attempt.
        var forms: [String: ContinuousClock.Instant] = [:]
        /// Student → the class the teacher moved them to.
        var moves: [String: String] = [:]
        var backoff = SignInBackoff()
    }

    private let state = Mutex(State())
    /// Counts kept outside the lock, so a request that carries no cookie and comes from an
    /// unbound address costs two atomic loads, not a lock.
    private let boundAddresses = Atomic<Int>(0)
    private let movedStudents = Atomic<Int>(0)
    private let lifetimeSeconds = Atomic<Int>(ClassRoster.defaultSessionSeconds)

    /// How long a new sign-in lasts (the roster's `session:`, set on each reload).
    public var lifetime: Duration {
        get { .seconds(lifetimeSeconds.load(ordering: .relaxed)) }
    }

    public func setLifetime(seconds: Int) {
        lifetimeSeconds.store(seconds, ordering: .relaxed)
    }

    public static let sessionCookie = "garden_student"
    public static let formCookie = "garden_sign_in"

    public init() {}

    // MARK: - The form

    /// A new sign-in form token (also set as a cookie: the form's CSRF check is both).
    public func newForm() -> String {
        let token = FormFields.newToken()
        let now = ContinuousClock.now
        state.withLock { state in
            if state.forms.count > 10_000 { state.forms = state.forms.filter { now - $0.value < .seconds(3600) } }
            if state.forms.count > 10_000 { state.forms.removeAll() }
            state.forms[token] = now
        }
        return token
    }

    /// Whether `token` is a form handed out within the hour (it is used up either way).
    public func takeForm(_ token: String) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let issued = state.forms.removeValue(forKey: token) else { return false }
            return now - issued < .seconds(3600)
        }
    }

    /// Takes a sign-in attempt for `client`, or says how long it must wait (`SignInBackoff`).
    public func reserveAttempt(client: String) -> Duration? {
        state.withLock { $0.backoff.reserve(client: client) }
    }

    /// An attempt never checked (too busy): it does not count.
    public func giveBackAttempt(client: String) {
        state.withLock { $0.backoff.giveBack(client: client) }
    }

    // MARK: - Sessions

    /// Starts a session for `student` (whose password is `hash`), bound to `address`
    /// when given; returns its token and sign-out token.
    public func start(
        student: String, hash: PasswordHash, client: String, bindingTo address: [UInt8]?
    ) -> (token: String, csrf: String) {
        let token = FormFields.newToken()
        let csrf = FormFields.newToken()
        let now = ContinuousClock.now
        let lifetime = self.lifetime
        state.withLock { state in
            state.backoff.forgive(client: client)
            if state.sessions.count > 10_000 { Self.forgetEnded(&state, now: now) }
            if let address, let earlier = state.byAddress[address] {
                // One student per machine: the earlier sign-in there ends.
                state.sessions[earlier] = nil
            }
            state.sessions[token] = Session(student: student, csrf: csrf, expires: now + lifetime, address: address, passwordDigest: hash.digest)
            if let address { state.byAddress[address] = token }
            boundAddresses.store(state.byAddress.count, ordering: .releasing)
        }
        return (token, csrf)
    }

    /// The live session of a cookie's token, if its student still has the password it
    /// was made under.
    public func session(token: String, accounts: [String: Account]) -> Session? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let session = state.sessions[token] else { return nil }
            guard session.expires > now, accounts[session.student]?.passwordHash.digest == session.passwordDigest else {
                Self.end(token, in: &state)
                boundAddresses.store(state.byAddress.count, ordering: .releasing)
                return nil
            }
            return session
        }
    }

    /// The student signed in from `address` (a machine other than the teacher's), if any.
    public func session(boundTo address: [UInt8], accounts: [String: Account]) -> Session? {
        guard boundAddresses.load(ordering: .acquiring) > 0 else { return nil }
        guard let token = state.withLock({ $0.byAddress[address] }) else { return nil }
        return session(token: token, accounts: accounts)
    }

    /// Ends `session` (signing out): found by its sign-out token, which is its own.
    public func end(session: Session) {
        state.withLock { state in
            for (token, found) in state.sessions where found.csrf == session.csrf { Self.end(token, in: &state) }
            boundAddresses.store(state.byAddress.count, ordering: .releasing)
        }
    }


    /// Ends every session of `student` (the teacher signs them out).
    public func endSessions(of student: String) {
        state.withLock { state in
            for (token, session) in state.sessions where session.student == student { Self.end(token, in: &state) }
            boundAddresses.store(state.byAddress.count, ordering: .releasing)
        }
    }

    /// The live sessions by student: how many, and the addresses bound (as text).
    public func signedIn() -> [String: (sessions: Int, addresses: [String])] {
        let now = ContinuousClock.now
        return state.withLock { state in
            var result: [String: (sessions: Int, addresses: [String])] = [:]
            for session in state.sessions.values where session.expires > now {
                var entry = result[session.student] ?? (0, [])
                entry.sessions += 1
                if let address = session.address, let text = try? SocketAddress(packedIPAddress: ByteBuffer(bytes: address), port: 0).ipAddress {
                    entry.addresses.append(text)
                }
                result[session.student] = entry
            }
            return result
        }
    }

    // MARK: - Moves

    /// Puts `student` in `visitorClass` from now on; nil moves them back to the roster's class.
    public func move(_ student: String, to visitorClass: String?) {
        state.withLock { state in
            state.moves[student] = visitorClass
            movedStudents.store(state.moves.count, ordering: .releasing)
        }
    }

    /// The class the teacher moved `student` to, if any.
    public func movedClass(of student: String) -> String? {
        guard movedStudents.load(ordering: .acquiring) > 0 else { return nil }
        return state.withLock { $0.moves[student] }
    }

    /// Every move in force.
    public var moves: [String: String] { state.withLock { $0.moves } }

    // MARK: - Helpers

    private static func end(_ token: String, in state: inout State) {
        guard let session = state.sessions.removeValue(forKey: token) else { return }
        if let address = session.address, state.byAddress[address] == token { state.byAddress[address] = nil }
    }

    private static func forgetEnded(_ state: inout State, now: ContinuousClock.Instant) {
        for (token, session) in state.sessions where session.expires <= now { end(token, in: &state) }
    }
}
