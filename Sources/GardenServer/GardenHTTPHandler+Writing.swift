#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GardenPolicy
import GardenRewrite
import GardenSites
import Logging
import NIOCore
import NIOExtras
import NIOTLS
import Synchronization

/// Writing answers: files (with validators and ranges), pages, errors, the PAC file; their
/// heads, pacing and the end of the connection.
extension GardenHTTPHandler {
    func sendFile(_ file: StaticFile, head: RequestHead, isHEAD: Bool) {
        if Preconditions.isNotModified(ifNoneMatch: head.ifNoneMatch, ifModifiedSince: head.ifModifiedSince, file: file) {
            var buffer = startHead(.notModified, capacity: 512)
            buffer.writeString(file.validatorLines)
            finishHead(&buffer)
            return write(buffer, body: nil)
        }
        // Range is defined for GET only (RFC 9110 §14.2); HEAD gets the whole headers.
        if !isHEAD, let rangeHeader = head.range, Preconditions.rangeApplies(ifRange: head.ifRange, file: file) {
            switch ByteRange.resolve(rangeHeader, length: file.size) {
            case .whole:
                break
            case .partial(let range):
                var buffer = startHead(.partialContent, capacity: 512)
                buffer.writeString(file.validatorLines)
                buffer.writeString("Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)\r\n")
                buffer.writeString("Content-Length: \(range.count)\r\n")
                finishHead(&buffer)
                return write(buffer, body: file.body.getSlice(at: range.lowerBound, length: range.count))
            case .unsatisfiable:
                var buffer = startHead(.rangeNotSatisfiable, capacity: 256)
                buffer.writeString("Content-Range: bytes */\(file.size)\r\n")
                buffer.writeString(SecurityHeaders.lines)
                buffer.writeString("Content-Length: 0\r\n")
                finishHead(&buffer)
                return write(buffer, body: nil)
            }
        }
        // The common answer (200, kept alive, a small body, no teaching header) is built
        // once a second per file and written as it is.
        if !isHEAD, !closing, teachingHeader.isEmpty, file.size <= Self.inlineBodyLimit {
            answerStatus = 200
            let date = dateLine()
            return write(sites.prebuiltAnswer(file, second: cachedDate.second, dateLine: date), body: nil)
        }
        // The head goes into the connection's reusable buffer: once the previous answer
        // is sent its storage is ours alone again, and `clear()` keeps it (copy-on-write
        // gives a fresh one when an answer is still queued, as with pipelining).
        headScratch.clear()
        answerStatus = 200
        headScratch.writeImmutableBuffer(file.okHead)
        finishHead(&headScratch)
        if !isHEAD, file.size <= Self.inlineBodyLimit {
            // Small bodies ride in the same buffer: one write instead of two.
            headScratch.writeImmutableBuffer(file.body)
            return write(headScratch, body: nil)
        }
        write(headScratch, body: isHEAD ? nil : file.body)
    }

    /// `/proxy.pac`: the garden's sites through this listener, the rest direct.
    func sendProxyAutoConfig(head: RequestHead, isHEAD: Bool) {
        // The address the browser used, so its answer names a reachable proxy.
        let proxy = head.host ?? context.channel.localAddress.map { "\($0.ipAddress ?? "127.0.0.1"):\($0.port ?? 0)" } ?? "127.0.0.1:8080"
        let text = ProxyAutoConfig.file(proxy: proxy, registry: sites.registry, everything: garden.upstream != nil)
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        sendBody(
            .ok, headerLines: "Content-Type: application/x-ns-proxy-autoconfig\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n",
            body: body, isHEAD: isHEAD
        )
    }

    /// The certificate of the garden's authority, in PEM: public, like any CA's.
    func sendAuthorityCertificate(isHEAD: Bool) {
        guard let text = try? garden.siteCertificates.authorityPEM(registry: sites.registry) else {
            return sendError(.serviceUnavailable, reason: "the garden's certificate authority could not be made", isHEAD: isHEAD, close: closing)
        }
        var body = context.channel.allocator.buffer(capacity: text.utf8.count + 1)
        body.writeString(text + "\n")
        sendBody(
            .ok, headerLines: "Content-Type: application/x-pem-file\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
                + "Content-Disposition: attachment; filename=\"garden-ca.pem\"\r\n",
            body: body, isHEAD: isHEAD
        )
    }

    /// The in-world page of an address that does not exist (the `notfound` style too).
    func sendUnknownHost(_ host: String, isHEAD: Bool, gateway: GatewayForm? = nil) {
        let body = sites.renderedPage(Self.pageKey("unknown", host, nil, gateway)) { Self.inGatewayForm($0.unknownHost(host), gateway) }
        sendBody(.notFound, headerLines: GardenPages.headerLines, body: body, isHEAD: isHEAD)
    }

    /// What a rendered censor page depends on: the page, the host, the teacher's note.
    static func pageKey(_ page: String, _ host: String, _ note: GardenPages.TeachersNote?, _ gateway: GatewayForm? = nil) -> String {
        var key = page + "\u{0}" + host
        if let note { key += "\u{0}" + note.rule + "\u{0}" + note.reason + "\u{0}" + note.visitorClass }
        // In the gateway form, the page's links and its strip depend on the address.
        if let gateway { key += "\u{0}gateway\u{0}" + gateway.realAddress }
        return key
    }

    /// A censor's page for a request in the gateway form: its links put in that form, and
    /// the strip with the real address (as is otherwise).
    static func inGatewayForm(_ html: String, _ gateway: GatewayForm?) -> String {
        guard let gateway else { return html }
        var plan = RewritePlan(outsidePage: "")
        plan.gateway = gateway
        let page = HTMLRewriter.rewrite(Array(html.utf8), plan: plan) { _ in true }
        return String(decoding: page.html, as: UTF8.self)
    }

    /// A refusal: the error page with its reason, optionally closing the connection.
    func sendError(_ status: HTTPStatusLine, reason: String, isHEAD: Bool, close: Bool, extraHeaders: String = "") {
        if close { closing = true }
        sendPage(status, html: sites.pages.error(status: status, reason: reason), isHEAD: isHEAD, extraHeaders: extraHeaders)
    }

    func sendPage(_ status: HTTPStatusLine, html: String, isHEAD: Bool, extraHeaders: String = "") {
        var body = context.channel.allocator.buffer(capacity: html.utf8.count)
        body.writeString(html)
        sendBody(
            status,
            headerLines: GardenPages.headerLines + extraHeaders,
            body: body, isHEAD: isHEAD
        )
    }

    func sendBody(_ status: HTTPStatusLine, headerLines: String, body: ByteBuffer, isHEAD: Bool) {
        var buffer = startHead(status, capacity: 512 + headerLines.utf8.count)
        buffer.writeString(headerLines)
        buffer.writeString("Content-Length: \(body.readableBytes)\r\n")
        finishHead(&buffer)
        write(buffer, body: isHEAD ? nil : body)
    }

    func startHead(_ status: HTTPStatusLine, capacity: Int) -> ByteBuffer {
        var buffer = context.channel.allocator.buffer(capacity: capacity)
        answerStatus = status.code
        buffer.writeString(status.line)
        buffer.writeString("Server: walled-garden\r\n")
        return buffer
    }

    /// Adds `Date`, connection handling and the blank line that ends the head.
    func finishHead(_ buffer: inout ByteBuffer) {
        buffer.writeString(dateLine())
        if !teachingHeader.isEmpty { buffer.writeString(teachingHeader) }
        buffer.writeString(closing ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n")
    }

    func write(_ head: ByteBuffer, body: ByteBuffer?) {
        recordEvent(bytes: head.readableBytes + (body?.readableBytes ?? 0))
        if let settings = answerThrottle {
            paceNextAnswer(settings)
        }
        context.write(wrapOutboundOut(head), promise: nil)
        if let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(body), promise: nil)
        }
        throttle?.nextPace = nil
        if closing {
            endConnectionAfterAnswers()
        } else {
            needsFlush = true
        }
    }

    /// Half-closes once everything queued is sent, so the client reads the whole answer
    /// (a full close with unread request bytes would reset it); then releases the socket
    /// even if the client never closes its side.
    func endConnectionAfterAnswers() {
        let channel = context.channel
        context.flush()
        needsFlush = false
        let sent = channel.eventLoop.makePromise(of: Void.self)
        channel.close(mode: .output, promise: sent)
        sent.futureResult.whenComplete { _ in
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }

    /// Puts a `ThrottleHandler` in front of this one (once per connection) and tells it
    /// how to pace the answer about to be written.
    func paceNextAnswer(_ settings: Throttle) {
        if throttle == nil {
            let handler = ThrottleHandler()
            do {
                try context.pipeline.syncOperations.addHandler(handler, position: .before(self))
                throttle = handler
            } catch {
                garden.logger.debug("could not throttle a connection", metadata: ["error": "\(error)"])
                return
            }
        }
        throttle?.nextPace = ThrottleHandler.Pace(bytesPerSecond: settings.bytesPerSecond, latency: settings.latency, startsAnswer: true)
    }
}
