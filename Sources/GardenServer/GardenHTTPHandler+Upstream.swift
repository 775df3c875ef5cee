import GardenAudit
import GardenPolicy
import GardenRewrite
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// How the real host's answer is being passed to the browser.
struct UpstreamAnswer {
    /// Re-framed as chunks (the real host gave no length, the browser speaks HTTP/1.1).
    var chunked: Bool
    /// HEAD, 204 or 304: a head and nothing more.
    var bodiless: Bool
    var status: Int
    /// Bytes written to the browser so far (head and framing included).
    var sent = 0
    /// Body bytes passed on, against `max_response`.
    var bodyBytes = 0
}

/// A page from the real network held back while the censor reads it: for
/// `content_keywords` rules (decided again with the page's words) and `rewrite` effects.
struct UpstreamInspection {
    var facts: RequestFacts
    var policy: Policy
    var decision: Decision
    var target: RequestTarget
    /// The real host's head, once it has come and the answer is a page worth reading.
    var head: UpstreamResponseHead?
    var collected = ByteBuffer()
}

/// Allowed `http://` requests for hosts that are not simulated sites, fetched from the real
/// network (`upstream: direct`) and streamed back to the browser.
extension GardenHTTPHandler: UpstreamReceiver {
    /// Methods the garden sends on. TRACE is not among them: it would echo the browser's
    /// cookies back to any page that asks (cross-site tracing).
    static let forwardedMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func forwardUpstream(
        _ head: RequestHead, target: RequestTarget, isHEAD: Bool, upstream: UpstreamClient, decision: Decision, facts: RequestFacts,
        policy: Policy
    ) {
        let settings = upstream.settings
        let method = head.method.description
        guard Self.forwardedMethods.contains(method) else {
            return sendError(
                .notImplemented, reason: "the garden does not send \(method) requests on to the real internet",
                isHEAD: false, close: true
            )
        }
        guard let raw = head.raw else {
            return sendError(.badRequest, reason: "the request head was not kept", isHEAD: isHEAD, close: true)
        }
        if method == "OPTIONS", UpstreamRequest.maxForwards(raw: raw) == 0 {
            // Max-Forwards: 0 asks the proxy itself (RFC 9110 §7.6.2).
            return sendBody(
                .ok, headerLines: "Allow: \(Self.forwardedMethods.sorted().joined(separator: ", "))\r\n",
                body: context.channel.allocator.buffer(capacity: 0), isHEAD: false
            )
        }
        if head.hasTransferEncoding {
            return sendError(
                .lengthRequired, reason: "request bodies sent on to the real internet need a Content-Length",
                isHEAD: isHEAD, close: true
            )
        }
        let length = head.contentLength ?? 0
        if length > settings.maxRequestBodyBytes {
            return sendError(
                .contentTooLarge,
                reason: "the request body (\(length) bytes) is larger than the garden sends on (max_request_body: \(settings.maxRequestBodyBytes) bytes)",
                isHEAD: isHEAD, close: true
            )
        }
        // Pages the censor must read are asked for uncompressed and whole.
        let rewrites = decision.effects.contains(where: \.isRewrite)
        upstreamInspection = nil
        if head.method == .get, settings.inspectLimitBytes > 0, !policy.contentKeywords.isEmpty || rewrites {
            upstreamInspection = UpstreamInspection(facts: facts, policy: policy, decision: decision, target: target)
        }
        let request = UpstreamRequest(
            method: method, host: target.host.name, port: target.host.port ?? 80, pathAndQuery: target.pathAndQuery,
            fieldLines: UpstreamRequest.forwardedFields(
                raw: raw, settings: settings, clientAddress: clientText == "-" ? nil : clientText, wholePage: upstreamInspection != nil
            ),
            body: nil
        )
        guard length > 0 else { return startFetch(request, isHEAD: isHEAD, clientMinorVersion: head.minorVersion, upstream: upstream) }
        // The body will be read, not left behind: the connection may be kept.
        closing = !head.keepsAlive
        if head.expectsContinue {
            var interim = context.channel.allocator.buffer(capacity: 32)
            interim.writeString("HTTP/1.1 100 Continue\r\n\r\n")
            context.writeAndFlush(wrapOutboundOut(interim), promise: nil)
        }
        requestBody = BodyCollection(
            purpose: .upstream(request, clientMinorVersion: head.minorVersion), remaining: length,
            collected: context.channel.allocator.buffer(capacity: length)
        )
    }

    func startFetch(_ request: UpstreamRequest, isHEAD: Bool, clientMinorVersion: Int, upstream: UpstreamClient) {
        // The request is whole: from now on the fetch's own clocks run.
        requestStarted = nil
        upstreamAnswerIsHEAD = isHEAD
        upstreamClientMinorVersion = clientMinorVersion
        upstreamFetch = upstream.fetch(request, receiver: self, on: context.eventLoop)
    }

    // MARK: - The answer

    func upstreamHead(_ head: UpstreamResponseHead) -> EventLoopFuture<Void>? {
        guard let context, context.channel.isActive, let upstream = garden.upstream else { return nil }
        let settings = upstream.settings
        let code = head.status
        let announced = head.contentLength
        if let announced, announced > settings.maxResponseBytes {
            upstreamFetch?.cancel()
            upstreamFailed(.tooLarge(
                "the answer (\(announced) bytes) is larger than the garden passes on (max_response: \(settings.maxResponseBytes) bytes)"
            ))
            return nil
        }
        if var inspection = upstreamInspection {
            let encoding = head.value(of: "content-encoding")?.lowercased() ?? "identity"
            if code == 200, encoding == "identity", announced.map({ $0 <= settings.inspectLimitBytes }) ?? true,
               head.value(of: "content-type")?.lowercased().hasPrefix("text/html") == true {
                inspection.head = head
                upstreamInspection = inspection
                return context.eventLoop.makeSucceededVoidFuture()
            }
            upstreamInspection = nil  // not a page it can read: passed on as it comes
        }
        passOn(head, settings: settings)
        return context.eventLoop.makeSucceededVoidFuture()
    }

    /// Writes the head of the real host's answer, framed for the browser; its body follows as it comes.
    func passOn(_ head: UpstreamResponseHead, settings: UpstreamSettings) {
        let code = head.status
        let announced = head.contentLength
        let bodiless = upstreamAnswerIsHEAD || code == 204 || code == 304 || code < 200
        var framing = ""
        var chunked = false
        if let announced {
            // A HEAD or 304 answer repeats the length the full answer would have.
            if code != 204, code >= 200 { framing = "Content-Length: \(announced)\r\n" }
        } else if !bodiless {
            if upstreamClientMinorVersion >= 1 {
                framing = "Transfer-Encoding: chunked\r\n"
                chunked = true
            } else {
                // An HTTP/1.0 browser learns the end from the connection closing.
                closing = true
            }
        }
        let buffer = answerHead(head, via: settings.via, framing: framing)
        answerStatus = code
        upstreamAnswer = UpstreamAnswer(chunked: chunked, bodiless: bodiless, status: code, sent: buffer.readableBytes)
        if let settings = answerThrottle {
            paceNextAnswer(settings)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            // Sent with the first part of the body, usually in the same read from the
            // host: one write for both (else at the end of that read: `upstreamReadComplete`).
            context.write(wrapOutboundOut(buffer), promise: nil)
            needsFlush = true
        }
    }

    /// The host's bytes of one read have all been passed on: a head written alone goes out.
    func upstreamReadComplete() {
        guard let context, needsFlush else { return }
        needsFlush = false
        context.flush()
    }

    func upstreamBody(_ part: ByteBuffer) -> EventLoopFuture<Void>? {
        guard let context, context.channel.isActive, let upstream = garden.upstream else { return nil }
        if var inspection = upstreamInspection, let held = inspection.head {
            var part = part
            inspection.collected.writeBuffer(&part)
            guard inspection.collected.readableBytes > upstream.settings.inspectLimitBytes else {
                upstreamInspection = inspection
                return context.eventLoop.makeSucceededVoidFuture()
            }
            // Longer than it said, or than the censor reads: passed on unread after all.
            upstreamInspection = nil
            passOn(held, settings: upstream.settings)
            return upstreamBody(inspection.collected)
        }
        guard var answer = upstreamAnswer else { return nil }
        guard !answer.bodiless, part.readableBytes > 0 else { return context.eventLoop.makeSucceededVoidFuture() }
        answer.bodyBytes += part.readableBytes
        if answer.bodyBytes > upstream.settings.maxResponseBytes {
            // The head is gone: all that is left is to cut the answer short.
            upstreamFetch?.cancel()
            upstreamBroken(UpstreamClient.Failure.tooLarge("larger than max_response"))
            return nil
        }
        let future: EventLoopFuture<Void>
        if answer.chunked {
            var framed = context.channel.allocator.buffer(capacity: part.readableBytes + 16)
            framed.writeString(String(part.readableBytes, radix: 16))
            framed.writeString("\r\n")
            framed.writeImmutableBuffer(part)
            framed.writeString("\r\n")
            answer.sent += framed.readableBytes
            future = context.writeAndFlush(wrapOutboundOut(framed))
        } else {
            answer.sent += part.readableBytes
            future = context.writeAndFlush(wrapOutboundOut(part))
        }
        needsFlush = false  // the head, if it waited, went with it
        upstreamAnswer = answer
        // The next part is read from the real host once the browser has taken this one.
        return future
    }

    func upstreamFinished() {
        if let inspection = upstreamInspection, let held = inspection.head {
            upstreamInspection = nil
            return inspect(inspection, head: held)
        }
        guard context != nil, var answer = upstreamAnswer else { return }
        upstreamFetch = nil
        upstreamAnswer = nil
        if answer.chunked {
            var last = context.channel.allocator.buffer(capacity: 8)
            last.writeString("0\r\n\r\n")
            answer.sent += last.readableBytes
            context.write(wrapOutboundOut(last), promise: nil)
        }
        recordEvent(bytes: answer.sent, status: answer.status)
        throttle?.nextPace = nil
        if closing {
            endConnectionAfterAnswers()
        } else {
            context.flush()
            continueWithPending()
        }
    }

    func upstreamFailed(_ failure: UpstreamClient.Failure) {
        guard context != nil else { return }
        upstreamFetch = nil
        let status: HTTPStatusLine = switch failure {
        case .forbidden: .forbidden
        case .unreachable, .tooLarge: .badGateway
        case .timedOut: .gatewayTimeout
        }
        sendError(status, reason: failure.description, isHEAD: upstreamAnswerIsHEAD, close: closing)
        fetchAnswered()
    }

    func upstreamBroken(_ error: any Error) {
        guard context != nil else { return }
        upstreamFetch = nil
        let answer = upstreamAnswer
        upstreamAnswer = nil
        garden.logger.debug("upstream answer cut short", metadata: ["error": "\(error)"])
        // Status as sent; the byte count says how much of it arrived.
        recordEvent(bytes: answer?.sent ?? 0, status: answer?.status ?? 0)
        closing = true
        context.close(promise: nil)
    }

    // MARK: - The censor reads the page

    /// What the censor made of a page it read.
    private enum Reading: Sendable {
        /// Its words decided against it: this decision is carried out instead.
        case censored(Decision)
        /// Passed on, rewritten or as it came.
        case page([UInt8]?, Decision)
    }

    /// Reads the page off the event loop (libxml2: its words, the decision again with
    /// them, and the rewrite), then answers: the censor's page if its words are
    /// forbidden, else the page, rewritten if the decision says so.
    func inspect(_ inspection: UpstreamInspection, head: UpstreamResponseHead) {
        guard let context, let upstream = garden.upstream else { return }
        let settings = upstream.settings
        let leaves = settings.letsOut(inspection.facts.visitorClass)
        let registry = sites.registry
        let pages = sites.pages
        let page = Array(inspection.collected.readableBytesView)
        let original = inspection.decision
        let policy = inspection.policy
        let inspectedFacts = inspection.facts
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { () -> Reading in
            var facts = inspectedFacts
            var decision = original
            if !policy.contentKeywords.isEmpty {
                facts.contentWords = policy.contentKeywordMatcher.words(in: HTMLInspector.visibleText(page))
                decision = policy.decide(facts, tracing: false)
                if decision.action != .allow { return .censored(decision) }
            }
            guard let rewrite = PageRewrite(decision: decision, facts: facts, policy: policy, pages: pages, portalHost: registry.portalHost) else {
                return .page(nil, decision)
            }
            let html = HTMLRewriter.rewrite(
                page, plan: rewrite.plan,
                isReachable: PageRewrite.reachability(policy: policy, facts: facts, leavesGarden: leaves) { registry.site(for: $0)?.zone }
            ).html
            return .page(html, decision)
        }.whenComplete { result in
            let handler = handler.value
            guard handler.context != nil, handler.context.channel.isActive else { return }
            handler.upstreamFetch = nil
            switch result {
            case .success(.censored(let decision)):
                handler.noteContentDecision(decision, replacing: original)
                _ = handler.carryOut(decision, target: inspection.target, policy: policy, isHEAD: false, isProxyRequest: true)
                handler.fetchAnswered()
            case .success(.page(let rewritten, let decision)):
                handler.noteContentDecision(decision, replacing: original)
                let body = rewritten.map { ByteBuffer(bytes: $0) } ?? inspection.collected
                handler.sendInspected(head, body: body, rewritten: rewritten != nil, settings: settings)
            case .failure:
                handler.sendError(.badGateway, reason: "the page could not be read", isHEAD: false, close: handler.closing)
                handler.fetchAnswered()
            }
        }
    }

    /// The audit event names the rule that decided on the page's words, when it differs.
    func noteContentDecision(_ decision: Decision, replacing original: Decision) {
        guard let record = event else { return }
        if decision.ruleID != original.ruleID {
            record.event.rule = decision.ruleID
            record.event.action = decision.action.name
            record.event.effects = decision.effects.map(\.name)
        }
        // Shadow rules on the page's words would have acted too.
        record.event.shadow = decision.shadowMatches.map { AuditEvent.Shadow(rule: $0.ruleID, action: $0.action.name) }
    }

    /// The read page, whole, with its length.
    func sendInspected(_ head: UpstreamResponseHead, body: ByteBuffer, rewritten: Bool, settings: UpstreamSettings) {
        // A rewritten page is another representation than the real host's: its validators no longer hold.
        let buffer = answerHead(
            head, via: settings.via, omitting: rewritten ? ["etag", "content-md5"] : [], framing: "Content-Length: \(body.readableBytes)\r\n"
        )
        answerStatus = head.status
        answerRewritten = rewritten
        write(buffer, body: body)
        fetchAnswered()
    }

    /// The head of an answer from the real host: its status, its fields as passed on
    /// (`UpstreamRequest.writeReturnedFields`, `Via` when `via`, less those `omitting`
    /// names), a `Date` if it sent none, the body's `framing`, the teaching header and
    /// the connection's fate.
    func answerHead(_ head: UpstreamResponseHead, via: Bool, omitting: Set<String> = [], framing: String) -> ByteBuffer {
        let code = head.status
        var buffer = context.channel.allocator.buffer(capacity: 1024)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(code))
        buffer.writeStaticString(" ")
        buffer.writeString(Self.safePhrase(head.reasonPhrase, code: code))
        buffer.writeStaticString("\r\n")
        UpstreamRequest.writeReturnedFields(head, via: via, omitting: omitting, into: &buffer)
        if !head.contains("date") { buffer.writeString(dateLine()) }
        buffer.writeString(framing)
        if !teachingHeader.isEmpty { buffer.writeString(teachingHeader) }
        buffer.writeStaticString(closing ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n")
        return buffer
    }

    /// The fetch's answer (or the error page in its place) is queued: on with the
    /// connection, unless `write` has already ended it.
    func fetchAnswered() {
        guard context != nil else { return }
        upstreamFetch = nil
        if closing { return }
        context.flush()
        needsFlush = false
        continueWithPending()
    }

    /// A reason phrase fit to repeat: printable ASCII only, else the standard one.
    static func safePhrase(_ phrase: String, code: Int) -> String {
        if !phrase.isEmpty, phrase.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return phrase }
        return HTTPResponseStatus(statusCode: code).reasonPhrase
    }
}
