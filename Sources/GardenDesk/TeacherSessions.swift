import Foundation
import GardenServer
import Synchronization

/// The teacher desk's memory of who has logged in: sessions with their CSRF tokens,
/// pending login forms, and failed logins per client address (for the back-off).
///
/// Tokens are 32 random bytes (hex); sessions end after `lifetime` of idleness.
final class TeacherSessions: Sendable {
    struct Session: Sendable {
        var csrf: String
        var lastUse: ContinuousClock.Instant
    }

    private struct State {
        var sessions: [String: Session] = [:]
        /// Login forms handed out (token → when), each good for one attempt.
        var loginForms: [String: ContinuousClock.Instant] = [:]
        /// Failed logins per client address.
        var backoff = SignInBackoff()
    }

    private let state = Mutex(State())
    let lifetime: Duration

    init(lifetime: Duration = .seconds(8 * 3600)) {
        self.lifetime = lifetime
    }


    /// A new login form token.
    func newLoginForm() -> String {
        let token = FormFields.newToken()
        let now = ContinuousClock.now
        state.withLock { state in
            state.loginForms = state.loginForms.filter { now - $0.value < .seconds(3600) }
            if state.loginForms.count > 10_000 { state.loginForms.removeAll() }
            state.loginForms[token] = now
        }
        return token
    }

    /// Whether `token` is a login form handed out (it is used up either way).
    func takeLoginForm(_ token: String) -> Bool {
        state.withLock { $0.loginForms.removeValue(forKey: token) != nil }
    }

    /// Takes a login attempt for `client` before its password is checked, or says how
    /// long it must wait first (`SignInBackoff`).
    func reserveLoginAttempt(client: String) -> Duration? {
        state.withLock { $0.backoff.reserve(client: client) }
    }

    /// An attempt taken but never checked (the desk was too busy): it does not count.
    func giveBackLoginAttempt(client: String) {
        state.withLock { $0.backoff.giveBack(client: client) }
    }

    /// The client's password was right: its attempts are forgotten.
    func forgiveAttempts(client: String) {
        state.withLock { $0.backoff.forgive(client: client) }
    }

    /// A new session after a successful login; the client's failures are forgotten.
    func start(client: String) -> (token: String, csrf: String) {
        let token = FormFields.newToken()
        let csrf = FormFields.newToken()
        state.withLock { state in
            state.backoff.forgive(client: client)
            let now = ContinuousClock.now
            state.sessions = state.sessions.filter { now - $0.value.lastUse < lifetime }
            state.sessions[token] = Session(csrf: csrf, lastUse: now)
        }
        return (token, csrf)
    }

    /// The session of a token, if it is alive (its clock starts again).
    func session(_ token: String?) -> Session? {
        guard let token else { return nil }
        return state.withLock { state in
            guard var session = state.sessions[token] else { return nil }
            let now = ContinuousClock.now
            guard now - session.lastUse < lifetime else {
                state.sessions[token] = nil
                return nil
            }
            session.lastUse = now
            state.sessions[token] = session
            return session
        }
    }

    func end(_ token: String) {
        state.withLock { _ = $0.sessions.removeValue(forKey: token) }
    }

    /// Ends every session (the password has changed).
    func endAll() {
        state.withLock { $0.sessions.removeAll() }
    }
}
