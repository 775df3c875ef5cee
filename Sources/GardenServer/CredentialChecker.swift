import Crypto
import Foundation
import GardenPolicy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Checks Basic credentials against the policy's accounts.
///
/// scrypt takes about a tenth of a second and 64 MiB on purpose, so it never runs on an
/// event loop: checks go to a small thread pool of their own, at most `maxQueued` at a
/// time (more is answered 503, so a password-guessing flood cannot queue up work without
/// end). A successful check is remembered for `rememberFor`, keyed by an HMAC (with a
/// key made at start) of the name, the password and the stored hash — a browser sends
/// its credentials with every request, and a changed hash forgets the old password at
/// once. Failures are never remembered; an unknown name costs the same scrypt run as a
/// wrong password, so timing does not tell which names exist.
final class CredentialChecker: Sendable {
    enum Verdict: Sendable, Equatable {
        case signedIn(account: String)
        case rejected
        /// Too many checks waiting: try again later (503).
        case busy
    }

    private let pool: NIOThreadPool
    private let cacheKey = SymmetricKey(size: .bits256)
    private let remembered = NIOLockedValueBox<[Data: NIODeadline]>([:])
    private let queued = NIOLockedValueBox(0)
    private let checksPerformed = NIOLockedValueBox(0)
    /// Passwords put to scrypt so far (a remembered one is not): for tests and the curious.
    var performed: Int { checksPerformed.withLockedValue { $0 } }
    let maxQueued: Int
    let rememberFor: TimeAmount
    private static let maxRemembered = 4096
    /// Stands in for an account that does not exist, so the check costs the same.
    private let decoy: PasswordHash?

    init(threads: Int = 2, maxQueued: Int = 64, rememberFor: TimeAmount = .minutes(15)) {
        self.pool = NIOThreadPool(numberOfThreads: threads)
        self.maxQueued = maxQueued
        self.rememberFor = rememberFor
        self.decoy = try? PasswordHash.make(password: "decoy", logRounds: PasswordHash.acceptedLogRounds.lowerBound)
        pool.start()
    }

    func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    /// The verdict when it is known without scrypt (a remembered success); else nil.
    func rememberedVerdict(_ credentials: BasicCredentials, policy: Policy) -> Verdict? {
        guard let account = policy.accounts[credentials.name] else { return nil }
        let key = rememberKey(credentials, hash: account.passwordHash)
        let now = NIODeadline.now()
        let known = remembered.withLockedValue { entries in
            guard let expiry = entries[key] else { return false }
            if expiry > now { return true }
            entries[key] = nil
            return false
        }
        return known ? .signedIn(account: account.name) : nil
    }

    /// Runs scrypt off the event loop; the future completes on `eventLoop`.
    func check(_ credentials: BasicCredentials, policy: Policy, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict> {
        let admitted = queued.withLockedValue { count in
            guard count < maxQueued else { return false }
            count += 1
            return true
        }
        guard admitted else { return eventLoop.makeSucceededFuture(.busy) }
        let account = policy.accounts[credentials.name]
        let hash = account?.passwordHash ?? decoy
        return pool.runIfActive(eventLoop: eventLoop) { [self] () -> Verdict in
            defer { queued.withLockedValue { $0 -= 1 } }
            PasswordVerifier.lowerThisThreadsPriority()  // the event loops come first
            checksPerformed.withLockedValue { $0 += 1 }
            guard let hash, hash.verify(credentials.password), let account else { return .rejected }
            remember(credentials, hash: hash)
            return .signedIn(account: account.name)
        }.recover { _ in
            self.queued.withLockedValue { $0 -= 1 }
            return .busy
        }
    }

    private func remember(_ credentials: BasicCredentials, hash: PasswordHash) {
        let key = rememberKey(credentials, hash: hash)
        let now = NIODeadline.now()
        remembered.withLockedValue { entries in
            if entries.count >= Self.maxRemembered {
                entries = entries.filter { $0.value > now }
                if entries.count >= Self.maxRemembered { entries.removeAll() }
            }
            entries[key] = now + rememberFor
        }
    }

    private func rememberKey(_ credentials: BasicCredentials, hash: PasswordHash) -> Data {
        var message = Array(credentials.name.utf8)
        message.append(0)
        message += credentials.password
        message.append(0)
        message += Array(hash.description.utf8)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: cacheKey))
    }
}
