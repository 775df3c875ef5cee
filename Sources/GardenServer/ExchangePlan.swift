import GardenPolicy
import GardenRewrite
import GardenSites

/// What the garden does with one request, decided before a byte is written: the answer,
/// whether the connection ends after it, how it is paced, and the facts the audit event
/// records. Made by `ExchangePlanner`, carried out by `GardenHTTPHandler`.
///
/// A class: made once per request and passed by reference from the planner to the
/// handler's steps. (As a struct, its copies and destroys between them cost 5% of a
/// request's CPU.) What only one kind of answer needs travels in that answer.
final class ExchangePlan {
    /// The answer, one of the garden's kinds.
    enum Answer {
        /// An error page (400, 403, 405, 502, 503) with the reason in words.
        case refuse(HTTPStatusLine, reason: String, extraHeaders: String = "")
        /// The proxy auto-config file, at the garden's own address.
        case proxyAutoConfig
        /// The students' lab page, at the garden's own address, with its query (the
        /// address a student asks about).
        case lab(query: String)
        /// The portal's sign-in form (`/sign-in`, `/sign-out`), with the session of the
        /// student it is for, if one is signed in.
        case signIn(SignInStep, session: StudentSessions.Session?)
        /// The credentials must go to scrypt first, off the event loop; the request is
        /// planned again with the verdict.
        case checkPassword(BasicCredentials, Policy)
        /// 401 or 407 with the sign-in page.
        case challenge(problem: String?, teachersNote: GardenPages.TeachersNote?)
        /// The censor's answer: the plan's decision, a style other than `allow` (block page,
        /// 451, drop, ...).
        case censor(teachersNote: GardenPages.TeachersNote?)
        /// A tunnel out through the way out, with its settings; its SNI is put to the
        /// censor with the request's facts.
        case tunnel(UpstreamSettings, RequestFacts)
        /// A tunnel to a simulated site, which the garden answers itself: TLS with a
        /// certificate of its authority (plain HTTP on port 80), after the censor's look at
        /// the server name; the requests inside are planned with `TunnelledSite`.
        case siteTunnel(RequestFacts)
        /// The certificate of the garden's authority (`/garden-ca.pem` at its own
        /// address), for a client to trust the simulated sites' `https://` pages.
        case authorityCertificate
        /// The page fetched from the real host through the way out (read by the censor
        /// with the request's facts, when rules look at content).
        case fetch(RequestFacts)
        /// The in-world page of an address that does not exist.
        case unknownHost
        /// A simulated site's file as it is on disk.
        case file(StaticFile)
        /// A simulated site's page changed by the `rewrite` effects (for the visitor of
        /// `facts`, at `path`).
        case rewrittenFile(StaticFile, PageRewrite, path: RequestPath, facts: RequestFacts)
        /// A folder asked for without its slash: 301 to the slashed address.
        case moved(to: String)
        /// No such file on the site: its own 404 page if it has one, else the garden's.
        case missing(StaticFile?)
    }

    var answer: Answer
    /// Whether the connection ends once this answer is written.
    var closing: Bool
    /// `X-Garden-Rule: ...` in teaching mode; else empty.
    var teachingHeader = ""
    /// The `throttle` effect the answer is paced by, if any.
    var throttle: Throttle?
    /// The request as the censor saw it, once it could be read that far, and the zone of
    /// the site it goes to (nil: no simulated site).
    var target: RequestTarget?
    var zone: Zone?
    var decision: Decision?
    /// Set when the request came in the gateway form (`/site/HOST/...` at the garden's own
    /// address): its answer's addresses are put in that form.
    var gateway: GatewayForm?
    /// The facts the censor decided on; kept only by a tracing planner (the teaching tools).
    var facts: RequestFacts?
    /// The visitor's class and account, once the visitor is classed.
    var visitorClass: String?
    var account: String?
    /// How long the policy took to decide.
    var decisionNanoseconds = 0

    init(_ answer: Answer, closing: Bool) {
        self.answer = answer
        self.closing = closing
    }
}
