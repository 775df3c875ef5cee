import GardenPolicy
import GardenSites

/// What the garden does with one request, decided before a byte is written: the answer,
/// whether the connection ends after it, how it is paced, and the facts the audit event
/// records. Made by `ExchangePlanner`, carried out by `GardenHTTPHandler`.
struct ExchangePlan {
    /// The answer, one of the garden's kinds.
    enum Answer {
        /// An error page (400, 403, 405, 502, 503) with the reason in words.
        case refuse(HTTPStatusLine, reason: String, extraHeaders: String = "")
        /// The proxy auto-config file, at the garden's own address.
        case proxyAutoConfig
        /// The credentials must go to scrypt first, off the event loop; the request is
        /// planned again with the verdict.
        case checkPassword(BasicCredentials, Policy)
        /// 401 or 407 with the sign-in page.
        case challenge(problem: String?, teachersNote: GardenPages.TeachersNote?)
        /// The censor's answer: the plan's decision, a style other than `allow` (block page,
        /// 451, drop, ...).
        case censor(teachersNote: GardenPages.TeachersNote?)
        /// A tunnel out through the way out, with its settings.
        case tunnel(UpstreamSettings)
        /// The page fetched from the real host through the way out.
        case fetch
        /// The in-world page of an address that does not exist.
        case unknownHost
        /// A simulated site's file as it is on disk.
        case file(StaticFile)
        /// A simulated site's page changed by the `rewrite` effects.
        case rewrittenFile(StaticFile, PageRewrite)
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
    /// The request as the censor saw it, once it could be read that far.
    var target: RequestTarget?
    var path: RequestPath?
    var facts: RequestFacts?
    var decision: Decision?
    /// Where the request goes (its host and zone) for the audit event, once the target is read.
    var located: (host: String, zone: Zone?)?
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
