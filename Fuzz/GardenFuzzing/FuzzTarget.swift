import GardenPolicy
import GardenRewrite
import GardenSites
import GardenServer
import NIOCore
import NIOEmbedded
import NIOTLS

/// The parsers a student's bytes reach, each as one function that takes any bytes and
/// must neither crash nor break its own promises (the checks below are the promises:
/// a `precondition` failing is a finding, like a crash).
///
/// Run by libFuzzer (`Scripts/fuzz.sh`), and by `FuzzRegressionTests` over the committed
/// seeds and every input a fuzzer ever found (`Fuzz/corpus/<target>/`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The data plane's request-head parser, whole and in two reads.
    case requestHead = "request-head"
    /// Request targets and `Host` values: the method, URI and Host on three lines.
    case requestTarget = "request-target"
    /// The TLS ClientHello reader that finds a tunnel's server name (SNI).
    case clientHello = "client-hello"
    /// The YAML configuration: garden.yaml, sites.yaml and policy.yaml, split at NUL bytes.
    case config
    /// The HTML rewriter and the page inspector, on any bytes as a page.
    case html
    /// The reader of a real host's answers (`UpstreamResponseDecoder`): the first byte
    /// says whether the request was HEAD and where to cut the rest into two reads.
    case upstreamAnswer = "upstream-answer"

    /// Feeds `bytes` to the target.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .requestHead: Self.requestHead(bytes)
        case .requestTarget: Self.requestTarget(bytes)
        case .clientHello: Self.clientHello(bytes)
        case .config: Self.config(bytes)
        case .html: Self.html(bytes)
        case .upstreamAnswer: Self.upstreamAnswer(bytes)
        }
    }

    static func requestHead(_ bytes: [UInt8]) {
        let parser = RequestHeadParser(maxURIBytes: 8192, maxHeaderBytes: 16384)
        let whole = bytes.withUnsafeBytes { parser.parse($0) }
        if case .head(_, let consumed) = whole { precondition(consumed > 0 && consumed <= bytes.count) }
        // Read in two parts, as from a slow client: the scan resumes where it stopped and
        // must come to the same answer.
        guard bytes.count > 1 else { return }
        let cut = Int(bytes[0]) % bytes.count
        let first = bytes[..<cut].withUnsafeBytes { parser.parse($0) }
        guard first == .needMoreData else { return }
        let resumed = bytes.withUnsafeBytes { parser.parse($0, scanFrom: max(0, cut - 3)) }
        precondition(resumed == whole, "resumed at \(cut): \(resumed), whole: \(whole)")
    }

    static func requestTarget(_ bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        let method = lines.first.map(String.init) ?? "GET"
        let uri = lines.count > 1 ? String(lines[1]) : "/"
        let host = lines.count > 2 ? String(lines[2]) : nil
        for requiresHost in [true, false] {
            guard case .success(let target) = RequestTarget.parse(method: method, uri: uri, host: host, requiresHost: requiresHost) else { continue }
            precondition(!target.host.name.isEmpty)
            if target.form == .origin || target.form == .absolute { precondition(target.pathAndQuery.utf8.first == UInt8(ascii: "/")) }
            // What the censor's path rules see starts where the request's path starts.
            if case .success(let path) = RequestPath.parse(target.pathAndQuery), !path.relativePath.isEmpty {
                let policyPath = "/" + path.relativePath
                precondition(PathPattern("/")?.matches(policyPath) == true)
                let firstSegment = "/" + String(decoding: path.relativePath.utf8.split(separator: UInt8(ascii: "/")).first ?? [], as: UTF8.self) + "/"
                // (A segment with `*` in it is a glob, which must match the whole path.)
                if policyPath.utf8.count > firstSegment.utf8.count, !firstSegment.utf8.contains(UInt8(ascii: "*")) {
                    precondition(PathPattern(firstSegment)?.matches(policyPath) == true, "\(policyPath) does not start with \(firstSegment)")
                }
            }
            // A normalised name reads back as itself.
            let again = HostName(authority: target.host.isIPLiteral && target.host.name.contains(":") ? "[\(target.host.name)]" : target.host.name)
            precondition(again?.name == target.host.name, "\(target.host.name) read back as \(String(describing: again?.name))")
        }
        if let host {
            if let parsed = HostName(authority: host), parsed.isIPLiteral, parsed.name.contains(":") {
                precondition(IPAddressRange.parseAddress(parsed.name)?.count == 16, "\(parsed.name) is not an IPv6 address")
            }
            _ = HostPattern(host)
        }
    }

    static func clientHello(_ bytes: [UInt8]) {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        let handler = ByteToMessageHandler(SNIHandler { _ in channel.eventLoop.makeSucceededVoidFuture() })
        guard (try? channel.pipeline.syncOperations.addHandler(handler)) != nil else { return }
        // In two reads, as the network may cut it anywhere.
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % bytes.count
        for part in [bytes[..<cut], bytes[cut...]] where !part.isEmpty {
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: part))
            } catch {
                return
            }
        }
    }

    static func config(_ bytes: [UInt8]) {
        let parts = bytes.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let garden = GardenConfig.Source(file: "garden.yaml", text: parts.first ?? "")
        let sites = GardenConfig.Source(file: "sites.yaml", text: parts.count > 1 ? parts[1] : "")
        let policy = parts.count > 2 ? GardenConfig.Source(file: "policy.yaml", text: parts[2]) : nil
        let lists = parts.count > 3 ? ["foreign-news": GardenConfig.Source(file: "lists/foreign-news.txt", text: parts[3])] : [:]
        do {
            let config = try GardenConfig.parse(garden: garden, sites: sites, policy: policy, lists: lists)
            // What parses can be decided on.
            let facts = RequestFacts(visitorClass: config.policy.defaultClass, host: config.sites.portalHost, zone: config.sites.portal?.zone)
            _ = config.policy.decide(facts)
        } catch {
            precondition(!error.diagnostics.isEmpty, "a refusal without a diagnostic")
        }
    }

    static func html(_ bytes: [UInt8]) {
        var plan = RewritePlan(outsidePage: "http://portal.kp/outside.html")
        plan.links = .neutralise
        plan.substitutions = [.init(word: "oppa", replacement: "comrade"), .init(word: "오빠", replacement: "동지")]
        plan.redactions = ["freedom"]
        plan.emphasis = ["leader"]
        plan.bannerHTML = "<div class=\"garden-banner\">State notice</div>"
        plan.watermark = "citizen 10.0.0.7"
        let page = HTMLRewriter.rewrite(bytes, plan: plan, isReachable: { $0.hasSuffix(".kp") })
        _ = HTMLInspector.inspect(page.html)
        // The censor reads a page's visible text without the inspection's references and
        // problems (`visibleText`); whatever the page, it must be the inspection's text.
        precondition(HTMLInspector.visibleText(bytes) == HTMLInspector.inspect(bytes).text, "the censor's reading differs from the inspection's text")
    }

    /// What an answer's bytes were read as: the heads (status, keep-alive, length,
    /// fields), the body's bytes, the ends, and the failure if any.
    struct AnswerReading: Equatable {
        var heads: [String] = []
        var body: [UInt8] = []
        var ends = 0
        var failure: UpstreamResponseDecoder.Failure?
    }

    static func readAnswer(_ bytes: ArraySlice<UInt8>, toHEAD: Bool, cut: Int) -> (AnswerReading, [UpstreamResponseHead]) {
        var decoder = UpstreamResponseDecoder()
        decoder.expectAnswer(toHEAD: toHEAD)
        var reading = AnswerReading()
        var heads: [UpstreamResponseHead] = []
        var buffer = ByteBuffer()
        do {
            for part in [bytes[..<(bytes.startIndex + cut)], bytes[(bytes.startIndex + cut)...]] {
                buffer.writeBytes(part)
                while let next = try decoder.next(from: &buffer) {
                    switch next {
                    case .head(let head):
                        heads.append(head)
                        reading.heads.append("\(head.status) \(head.keepAlive) \(String(describing: head.contentLength)) \(head.fieldPairs.map { "\($0.name)=\($0.value)" })")
                    case .body(let part):
                        reading.body += part.readableBytesView
                    case .end:
                        reading.ends += 1
                    }
                }
            }
            if let last = try decoder.inputClosed(), case .end = last { reading.ends += 1 }
        } catch {
            reading.failure = error
        }
        return (reading, heads)
    }

    static func upstreamAnswer(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let answer = bytes.dropFirst()
        let toHEAD = first & 1 == 1
        let (whole, heads) = readAnswer(answer, toHEAD: toHEAD, cut: 0)
        // However the network cuts the bytes, they read the same.
        let cut = Int(first >> 1) % (answer.count + 1)
        let (split, _) = readAnswer(answer, toHEAD: toHEAD, cut: cut)
        precondition(split == whole, "cut at \(cut): \(split) against \(whole)")
        // One answer per request; a body only after a head, and no more than announced.
        precondition(heads.count <= 1 && whole.ends <= 1)
        precondition(whole.body.isEmpty || heads.count == 1)
        if let head = heads.first, let length = head.contentLength, !head.contains("transfer-encoding") {
            precondition(whole.body.count <= length, "\(whole.body.count) body bytes against a length of \(length)")
            if whole.ends == 1, !toHEAD, head.status != 204, head.status != 304 { precondition(whole.body.count == length) }
        }
        if toHEAD || heads.first.map({ $0.status == 204 || $0.status == 304 }) == true { precondition(whole.body.isEmpty) }
        // Where llhttp (SwiftNIO's decoder, which this one replaced) accepts the answer too,
        // both frame it alike.
        if whole.failure == nil, let head = heads.first, let oracle = LLHTTPOracle.read(answer, toHEAD: toHEAD) {
            let ours = LLHTTPOracle.Reading(
                status: head.status, fields: head.fieldPairs.map { "\($0.name): \($0.value)" }, body: whole.body, ended: whole.ends == 1
            )
            precondition(ours == oracle, "the garden read \(ours), llhttp \(oracle)")
        }
    }
}
