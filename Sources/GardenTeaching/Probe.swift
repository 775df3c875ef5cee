#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GardenPolicy
import GardenRewrite
import GardenServer
import GardenSites
import NIOCore

/// `walled-garden probe`: what OONI Probe does for real networks, for the garden. A page
/// is fetched twice — as a control, straight from the site store, and through the garden
/// as a student would — and the two are compared to name the censorship observed: none,
/// block page, 451, fake not-found, redirect, sign-in demanded, drop, reset, stall,
/// throttled, rewritten (with the changed words).
public enum Probe {
    /// What came back through the garden.
    public struct Observation: Sendable, Equatable {
        public enum Ending: Sendable, Equatable {
            /// A whole answer arrived.
            case answered
            /// The connection closed before an answer (or in the middle of one).
            case closed
            /// The connection was reset.
            case reset
            /// Nothing (or not all) came within the time allowed.
            case timedOut
            /// The garden could not be reached at all.
            case unreachable(String)
        }

        public var ending: Ending
        public var status: Int?
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// Seconds to the first byte and to the last.
        public var firstByte: Double?
        public var total: Double
        /// For an https probe: the proxy answered `CONNECT` with 200 (so what followed,
        /// a reset say, happened in or after the TLS handshake).
        public var tunnelOpened = false

        public init(ending: Ending, status: Int?, headers: [(name: String, value: String)], body: [UInt8], firstByte: Double?, total: Double) {
            self.ending = ending
            self.status = status
            self.headers = headers
            self.body = body
            self.firstByte = firstByte
            self.total = total
        }

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        public static func == (a: Observation, b: Observation) -> Bool {
            a.ending == b.ending && a.status == b.status && a.body == b.body && a.headers.map(\.name) == b.headers.map(\.name)
                && a.headers.map(\.value) == b.headers.map(\.value)
        }
    }

    /// The control: the page as its site has it (nil when the garden has no such site).
    public struct Control: Sendable, Equatable {
        public var status: Int
        public var body: [UInt8]

        public init(status: Int, body: [UInt8]) {
            self.status = status
            self.body = body
        }
    }

    /// The censorship observed, in the words `probe` prints.
    public enum Verdict: Sendable, Equatable {
        case none
        case blockPage
        case unavailableForLegalReasons(authority: String?)
        case fakeNotFound
        case redirect(to: String)
        case signInDemanded
        case drop
        case reset
        case stall
        case throttled(firstByte: Double, bytesPerSecond: Double)
        case rewritten(changes: [String])
        case unreachable(String)
        /// The control has no page either: nothing to compare.
        case noControl(status: Int?)

        public var summary: String {
            switch self {
            case .none: "none: the page arrived as its site has it"
            case .blockPage: "block page: HTTP 403 with a page saying the site is blocked"
            case .unavailableForLegalReasons(let authority):
                "451 Unavailable For Legal Reasons" + (authority.map { " (blocked by \($0))" } ?? "")
            case .fakeNotFound: "fake not-found: HTTP 404, though the site has the page"
            case .redirect(let location): "redirect: sent elsewhere (\(location))"
            case .signInDemanded: "sign-in demanded: HTTP 401/407 before the page"
            case .drop: "drop: the connection closed without an answer"
            case .reset: "reset: the connection was reset (TCP RST)"
            case .stall: "stall: no answer came in time"
            case let .throttled(firstByte, rate):
                String(format: "throttled: the first byte after %.2f s, %.1f KB/s", firstByte, rate / 1024)
            case .rewritten(let changes): "rewritten: " + (changes.isEmpty ? "the page was changed" : changes.joined(separator: "; "))
            case .unreachable(let why): "the garden could not be reached: \(why)"
            case .noControl(let status): "no page to compare: neither the site store nor the real host has it" + (status.map { " (the garden answered \($0))" } ?? "")
            }
        }
    }

    /// Names the censorship from what came through the garden and the control.
    ///
    /// A first byte later than `slowFirstByte` seconds, or a rate below `slowRate`
    /// bytes a second on a body of at least 8 KiB, counts as throttled.
    public static func classify(_ seen: Observation, control: Control?, slowFirstByte: Double = 0.8, slowRate: Double = 64 * 1024) -> Verdict {
        switch seen.ending {
        case .unreachable(let why): return .unreachable(why)
        case .reset: return .reset
        case .timedOut where seen.status == nil: return .stall
        case .closed where seen.status == nil: return .drop
        default: break
        }
        guard let status = seen.status else { return .drop }
        switch status {
        case 451: return .unavailableForLegalReasons(authority: blockedBy(seen.header("Link")))
        case 403: return .blockPage
        case 401, 407: return .signInDemanded
        case 301, 302, 303, 307, 308:
            if control?.status != status { return .redirect(to: seen.header("Location") ?? "?") }
        case 404:
            if let control, control.status == 200 { return .fakeNotFound }
        default: break
        }
        guard let control else { return .noControl(status: status) }
        if control.status != 200, status != 200 { return .noControl(status: status) }
        if let first = seen.firstByte, first > slowFirstByte {
            return .throttled(firstByte: first, bytesPerSecond: Double(seen.body.count) / max(seen.total, 0.001))
        }
        if seen.body.count >= 8 * 1024, let first = seen.firstByte, seen.total - first > 0 {
            let rate = Double(seen.body.count) / (seen.total - first)
            if rate < slowRate { return .throttled(firstByte: first, bytesPerSecond: rate) }
        }
        if seen.body != control.body {
            return .rewritten(changes: changedWords(from: control.body, to: seen.body))
        }
        return .none
    }

    /// The page's `Link: <...>; rel="blocked-by"` target.
    static func blockedBy(_ link: String?) -> String? {
        guard let link, link.contains("blocked-by"), let start = link.firstIndex(of: "<"), let end = link.firstIndex(of: ">"), start < end
        else { return nil }
        return String(link[link.index(after: start)..<end])
    }

    /// What changed in the visible words, as "“a” → “b”" phrases (at most 12): the text
    /// of the two pages compared word by word, line by line.
    static func changedWords(from original: [UInt8], to received: [UInt8]) -> [String] {
        // Styles and scripts are not words a reader sees (the censor adds its own style).
        let before = withoutStylesAndScripts(String(decoding: original, as: UTF8.self))
        let after = withoutStylesAndScripts(String(decoding: received, as: UTF8.self))
        var changes: [String] = []
        var removed: [String] = []
        var added: [String] = []
        func flush() {
            defer { removed = []; added = [] }
            guard !removed.isEmpty || !added.isEmpty else { return }
            let old = words(removed.joined(separator: " "))
            let new = words(added.joined(separator: " "))
            let gone = old.filter { !new.contains($0) }
            let came = new.filter { !old.contains($0) }
            if gone.isEmpty, came.isEmpty { return }
            let phrase = "“\(gone.prefix(4).joined(separator: " "))” → “\(came.prefix(4).joined(separator: " "))”"
            if !changes.contains(phrase) { changes.append(phrase) }
        }
        for line in LineDiff.lines(from: before, to: after) {
            switch line {
            case .same: flush()
            case .removed(let text): removed.append(text)
            case .added(let text): added.append(text)
            }
        }
        flush()
        return Array(changes.prefix(12))
    }

    /// The page with the contents of its `<style>` and `<script>` elements taken out.
    static func withoutStylesAndScripts(_ html: String) -> String {
        var result = html
        for element in ["style", "script"] {
            while let open = result.range(of: "<\(element)", options: .caseInsensitive),
                  let close = result.range(of: "</\(element)>", options: .caseInsensitive, range: open.upperBound..<result.endIndex) {
                result.replaceSubrange(open.lowerBound..<close.upperBound, with: "")
            }
        }
        return result
    }

    /// The words of a line of HTML, without its tags.
    static func words(_ html: String) -> [String] {
        var text = ""
        var inTag = false
        for character in html {
            if character == "<" { inTag = true; text.append(" "); continue }
            if character == ">" { inTag = false; continue }
            if !inTag { text.append(character) }
        }
        return text.split { $0.isWhitespace || $0.isPunctuation }.map(String.init)
    }

    // MARK: - Fetching

    /// The control: the page as the site store has it (nil for a host the garden lacks).
    public static func control(url: String, config: GardenConfig, sitesDirectory: String) -> Control? {
        guard case .success(let target) = RequestTarget.parse(method: "GET", uri: url, host: nil, requiresHost: false),
              case .success(let path) = RequestPath.parse(target.pathAndQuery),
              let site = config.sites.site(named: target.host.name),
              let content = try? SiteLoader.load(folder: (sitesDirectory as NSString).appendingPathComponent(site.folder)).site.content
        else { return nil }
        switch content.resolve(path) {
        case .file(let file): return Control(status: 200, body: Array(file.body.readableBytesView))
        case .redirect: return Control(status: 301, body: [])
        case .notFound: return Control(status: 404, body: [])
        }
    }

    /// The control for a host the garden has no site for: the page straight from the real
    /// host, not through the garden (nil when it cannot be reached or gives no answer).
    /// Blocking: run it off any event loop.
    public static func directControl(url: String, timeout: Double) -> Control? {
        guard case .success(let target) = RequestTarget.parse(method: "GET", uri: url, host: nil, requiresHost: false) else { return nil }
        let seen = fetch(url: url, proxyHost: target.host.name, proxyPort: target.host.port ?? 80, proxyAuthorization: nil, timeout: timeout, direct: true)
        guard seen.ending == .answered || seen.ending == .closed, let status = seen.status else { return nil }
        return Control(status: status, body: seen.body)
    }

    /// GETs `url` through the garden at `proxyHost:proxyPort` as an HTTP proxy (or, when
    /// `direct`, from `proxyHost:proxyPort` as the host itself, in origin-form), watching
    /// how the connection ends. Blocking: run it off any event loop.
    public static func fetch(
        url: String, proxyHost: String, proxyPort: Int, proxyAuthorization: String?, timeout: Double, direct: Bool = false
    ) -> Observation {
        let start = ContinuousClock.now
        func since() -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        let descriptor: Int32
        switch connected(to: proxyHost, port: proxyPort, timeout: timeout) {
        case .success(let open): descriptor = open
        case .failure(let problem):
            return Observation(ending: .unreachable(problem.reason), status: nil, headers: [], body: [], firstByte: nil, total: since())
        }
        defer { close(descriptor) }
        let bytes = Array(request(for: url, direct: direct, proxyAuthorization: proxyAuthorization).utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }
            offset += sent
        }
        let (received, ending, firstByte) = readAnswer(from: descriptor, timeout: timeout, since: since)
        let (status, headers, body) = parse(received)
        return Observation(ending: ending, status: status, headers: headers, body: body, firstByte: firstByte, total: since())
    }

    /// Why a connection could not be opened.
    struct Unreachable: Error {
        let reason: String
    }

    /// A socket connected to `host:port`, with `timeout` for each send and receive.
    static func connected(to host: String, port: Int, timeout: Double) -> Result<Int32, Unreachable> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
            return .failure(Unreachable(reason: "cannot resolve \(host)"))
        }
        defer { freeaddrinfo(first) }
        let descriptor = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return .failure(Unreachable(reason: "no socket")) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: __suseconds_t((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        guard connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            return .failure(Unreachable(reason: "\(host):\(port): \(reason)"))
        }
        return .success(descriptor)
    }

    /// The GET the probe sends: absolute-form to a proxy, origin-form when `direct`.
    static func request(for url: String, direct: Bool, proxyAuthorization: String?) -> String {
        let host: String
        var requestTarget = url
        if case .success(let target) = RequestTarget.parse(method: "GET", uri: url, host: nil, requiresHost: false) {
            let name = target.host.name.contains(":") ? "[\(target.host.name)]" : target.host.name
            host = name + (target.host.port.map { ":\($0)" } ?? "")
            if direct { requestTarget = target.pathAndQuery }
        } else {
            host = "-"
        }
        var request = "GET \(requestTarget) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: walled-garden-probe\r\nConnection: close\r\n"
        if let proxyAuthorization { request += "Proxy-Authorization: \(proxyAuthorization)\r\n" }
        return request + "\r\n"
    }

    /// Reads the answer until it is whole (by its length, or its last chunk), the peer
    /// closes or resets, or it stays silent past `timeout` (a throttled answer may take
    /// up to ten times that in all).
    static func readAnswer(
        from descriptor: Int32, timeout: Double, since: () -> Double
    ) -> (received: [UInt8], ending: Observation.Ending, firstByte: Double?) {
        var received: [UInt8] = []
        var firstByte: Double?
        var chunk = [UInt8](repeating: 0, count: 65536)
        var expected: Int?
        var chunked = false
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                if count == 0 { return (received, expected.map { received.count >= $0 } == true ? .answered : .closed, firstByte) }
                if errno == ECONNRESET { return (received, .reset, firstByte) }
                return (received, errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .closed, firstByte)
            }
            if firstByte == nil { firstByte = since() }
            received.append(contentsOf: chunk[0..<count])
            // The answer's whole length, read once its head has arrived.
            if expected == nil, !chunked {
                expected = completeLength(received)
                // Chunked (no length): whole once the last chunk and empty trailer have come.
                if expected == nil, let end = headEnd(received) {
                    chunked = parse(Array(received[..<end])).1.contains { $0.name.lowercased() == "transfer-encoding" }
                }
            }
            if chunked, received.suffix(5).elementsEqual("0\r\n\r\n".utf8) { return (received, .answered, firstByte) }
            if let complete = expected, received.count >= complete { return (received, .answered, firstByte) }
            if ContinuousClock.now > deadline + .seconds(timeout * 9) { return (received, .timedOut, firstByte) }
        }
    }

    /// The length of a whole answer once its head has arrived (head + Content-Length).
    static func completeLength(_ bytes: [UInt8]) -> Int? {
        guard let end = headEnd(bytes) else { return nil }
        let (_, headers, _) = parse(bytes)
        guard let length = headers.first(where: { $0.name.lowercased() == "content-length" }).flatMap({ Int($0.value) }) else { return nil }
        return end + length
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    /// Status, header fields and body of a response's bytes (nil status when there is no head).
    static func parse(_ bytes: [UInt8]) -> (Int?, [(name: String, value: String)], [UInt8]) {
        guard let end = headEnd(bytes) else { return (nil, [], []) }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard !lines.isEmpty else { return (nil, [], []) }
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = statusLine.count > 1 ? Int(statusLine[1]) : nil
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(bytes[end...])
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            body = dechunked(body)
        }
        return (status, headers, body)
    }

    /// A chunked body's content (as far as it arrived whole).
    static func dechunked(_ bytes: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = (index..<(bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            let end = min(start + size, bytes.count)
            body += bytes[start..<end]
            index = end + 2
        }
        return body
    }
}
