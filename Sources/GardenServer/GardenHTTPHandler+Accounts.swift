#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GardenAudit
import GardenPolicy
import GardenRewrite
import GardenSites
import Logging
import NIOCore
import NIOExtras
import NIOTLS
import Synchronization

/// Accounts: a password checked by scrypt off the event loop while the connection's further
/// requests wait, and the sign-in challenge.
extension GardenHTTPHandler {
    /// Checks a password off the event loop; the request is answered in `resume`.
    func checkCredentials(_ credentials: BasicCredentials, policy: Policy, head: RequestHead) {
        awaitingCredentialCheck = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        garden.credentials.check(credentials, policy: policy, on: context.eventLoop).whenComplete { result in
            handler.value.resume(head, verdict: (try? result.get()) ?? .busy)
        }
    }

    /// Answers the request that waited for its password check, then those that came after it.
    func resume(_ head: RequestHead, verdict: CredentialChecker.Verdict) {
        awaitingCredentialCheck = false
        guard context != nil, context.channel.isActive else { return }
        respond(to: head, checkedCredentials: verdict)
        continueWithPending()
    }

    /// Goes on with the bytes that waited for a password check or a fetch: the body of
    /// the request just answered first (if it is going out), then the requests behind it.
    func continueWithPending() {
        idleSince = .now()
        requestStarted = pending != nil ? idleSince : nil
        if var rest = pending, !closing {
            pending = nil
            if requestBody != nil { takeRequestBody(from: &rest) }
            if rest.readableBytes > 0 {
                if awaitingCredentialCheck || awaitingTunnel || awaitingUpstream || requestBody != nil {
                    pending = rest
                } else {
                    scannedBytes = 0
                    process(&rest)
                }
            }
        }
        if readingPaused, !awaitingCredentialCheck, !awaitingUpstream, !backedUp {
            readingPaused = false
            context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
            context.read()
        }
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    /// 401 with `WWW-Authenticate` (or 407 with `Proxy-Authenticate` through the proxy):
    /// the browser asks for a name and password.
    func challenge(
        host: String, policy: Policy, proxy: Bool, isHEAD: Bool, problem: String?, teachersNote: GardenPages.TeachersNote? = nil
    ) {
        let field = proxy ? "Proxy-Authenticate" : "WWW-Authenticate"
        if let record = event, record.event.rule == nil { record.event.action = "authenticate" }
        sendPage(
            proxy ? .proxyAuthenticationRequired : .unauthorized,
            html: sites.pages.signIn(host: host, realm: policy.realm, problem: problem, teachersNote: teachersNote),
            isHEAD: isHEAD, extraHeaders: "\(field): Basic realm=\"\(policy.realm)\", charset=\"UTF-8\"\r\n"
        )
    }
}
