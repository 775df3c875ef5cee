import GardenPolicy
import Logging
import NIOCore
import NIOHTTP1

/// A request body being read before its request goes out to the real network: the
/// garden takes the whole body first (as nginx does by default), so a slow upload never
/// holds a connection to the real host open.
struct UpstreamBodyCollection {
    var request: UpstreamRequest
    var clientMinorVersion: Int
    var remaining: Int
    var collected: ByteBuffer
}

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

/// Allowed `http://` requests for hosts that are not simulated sites, fetched from the real
/// network (`upstream: direct`) and streamed back to the browser.
extension GardenHTTPHandler: UpstreamReceiver {
    /// Methods the garden sends on. TRACE is not among them: it would echo the browser's
    /// cookies back to any page that asks (cross-site tracing).
    private static let forwardedMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func forwardUpstream(_ head: RequestHead, target: RequestTarget, isHEAD: Bool, upstream: UpstreamClient) {
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
        let request = UpstreamRequest(
            method: method, host: target.host.name, port: target.host.port ?? 80, pathAndQuery: target.pathAndQuery,
            headers: UpstreamRequest.forwardedFields(raw: raw, settings: settings, clientAddress: context.channel.remoteAddress?.ipAddress),
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
        upstreamBody = UpstreamBodyCollection(
            request: request, clientMinorVersion: head.minorVersion, remaining: length,
            collected: context.channel.allocator.buffer(capacity: length)
        )
    }

    /// Takes the body bytes of the request being collected from `buffer`; sends the
    /// request out once the body is whole.
    func takeUpstreamBody(from buffer: inout ByteBuffer) {
        guard var collection = upstreamBody else { return }
        let count = min(collection.remaining, buffer.readableBytes)
        var part = buffer.readSlice(length: count)!
        collection.collected.writeBuffer(&part)
        collection.remaining -= count
        guard collection.remaining == 0 else {
            upstreamBody = collection
            return
        }
        upstreamBody = nil
        guard let upstream = garden.upstream else { return }
        var request = collection.request
        request.body = collection.collected
        startFetch(request, isHEAD: false, clientMinorVersion: collection.clientMinorVersion, upstream: upstream)
    }

    private func startFetch(_ request: UpstreamRequest, isHEAD: Bool, clientMinorVersion: Int, upstream: UpstreamClient) {
        // The request is whole: from now on the fetch's own clocks run.
        requestStarted = nil
        upstreamAnswerIsHEAD = isHEAD
        upstreamClientMinorVersion = clientMinorVersion
        upstreamFetch = upstream.fetch(request, receiver: self, on: context.eventLoop)
    }

    // MARK: - The answer

    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        guard let context, context.channel.isActive, let upstream = garden.upstream else { return nil }
        let settings = upstream.settings
        let code = Int(head.status.code)
        let announced = head.headers.first(name: "content-length").flatMap { Int($0) }
        if let announced, announced > settings.maxResponseBytes {
            upstreamFetch?.cancel()
            upstreamFailed(.tooLarge(
                "the answer (\(announced) bytes) is larger than the garden passes on (max_response: \(settings.maxResponseBytes) bytes)"
            ))
            return nil
        }
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
        var buffer = context.channel.allocator.buffer(capacity: 1024)
        buffer.writeString("HTTP/1.1 \(code) \(Self.safePhrase(head.status.reasonPhrase, code: code))\r\n")
        buffer.writeString(UpstreamRequest.returnedFieldLines(head.headers, via: settings.via))
        if !head.headers.contains(name: "date") { buffer.writeString(dateLine()) }
        buffer.writeString(framing)
        if !teachingHeader.isEmpty { buffer.writeString(teachingHeader) }
        buffer.writeString(closing ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n")
        answerStatus = code
        upstreamAnswer = UpstreamAnswer(chunked: chunked, bodiless: bodiless, status: code, sent: buffer.readableBytes)
        if let settings = answerThrottle { paceNextAnswer(settings) }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        return context.eventLoop.makeSucceededVoidFuture()
    }

    func upstreamBody(_ part: ByteBuffer) -> EventLoopFuture<Void>? {
        guard let context, context.channel.isActive, var answer = upstreamAnswer, let upstream = garden.upstream else { return nil }
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
        upstreamAnswer = answer
        // The next part is read from the real host once the browser has taken this one.
        return future
    }

    func upstreamFinished() {
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
        if !closing {
            context.flush()
            needsFlush = false
            continueWithPending()
        }
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

    /// A reason phrase fit to repeat: printable ASCII only, else the standard one.
    private static func safePhrase(_ phrase: String, code: Int) -> String {
        if !phrase.isEmpty, phrase.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return phrase }
        return HTTPResponseStatus(statusCode: code).reasonPhrase
    }
}
