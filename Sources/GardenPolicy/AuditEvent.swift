import Foundation

/// One line of the surveillance (audit) log: what one request, tunnel request or
/// cut-off connection was, who asked, what the censor decided and what was sent.
///
/// Written as one JSON object per line (JSON Lines), read back by `log summary` and
/// `replay`. The data plane fills it in; writing it happens off the event loops.
public struct AuditEvent: Sendable, Equatable, Codable {
    /// Milliseconds since 1970 (UTC); written as RFC 3339 with milliseconds.
    public var time: Int64
    /// The listener's address, e.g. `127.0.0.1:8080`.
    public var listener: String
    /// The client's IP address.
    public var client: String
    public var visitorClass: String
    public var account: String?
    public var method: String
    /// The URL as the visitor asked for it: `http://host/path?query`, or `host:port` for CONNECT.
    public var url: String
    public var host: String
    public var zone: String?
    /// The deciding rule (`default` when none did); nil when the request was refused
    /// before the policy saw it (a malformed request, a password being wrong).
    public var rule: String?
    /// The censor style carried out (`allow`, `block`, ..., `refused` for a bad request).
    public var action: String
    /// Shadow rules that matched, with what they would have done.
    public var shadow: [Shadow]
    /// Effects applied to the answer (`rewrite`, `monitor`, ...).
    public var effects: [String]
    /// The status sent; 0 when the connection was dropped, reset or stalled.
    public var status: Int
    /// Bytes of the answer (head and body) queued for the client.
    public var bytes: Int
    /// From the request head's arrival to the answer queued, in microseconds.
    public var durationMicroseconds: Int
    /// Nanoseconds the policy took to decide (0 when it was not asked).
    public var decisionNanoseconds: Int
    public var referer: String?
    public var userAgent: String?
    /// On a line of its own (action `suppressed`): this many requests of the client were
    /// not written one by one, its share of the log being used up (a flood). `bytes`
    /// then sums their answers.
    public var suppressed: Int?

    public struct Shadow: Sendable, Equatable, Codable {
        public var rule: String
        public var action: String

        public init(rule: String, action: String) {
            self.rule = rule
            self.action = action
        }
    }

    enum CodingKeys: String, CodingKey {
        case time, listener, client, account, method, url, host, zone, rule, action, shadow, effects, status, bytes, referer, suppressed
        case visitorClass = "class"
        case durationMicroseconds = "duration_us"
        case decisionNanoseconds = "decision_ns"
        case userAgent = "user_agent"
    }

    public init(
        time: Int64, listener: String, client: String, visitorClass: String, account: String? = nil, method: String, url: String,
        host: String, zone: String? = nil, rule: String?, action: String, shadow: [Shadow] = [], effects: [String] = [],
        status: Int, bytes: Int, durationMicroseconds: Int = 0, decisionNanoseconds: Int = 0, referer: String? = nil, userAgent: String? = nil,
        suppressed: Int? = nil
    ) {
        self.suppressed = suppressed
        self.time = time
        self.listener = listener
        self.client = client
        self.visitorClass = visitorClass
        self.account = account
        self.method = method
        self.url = url
        self.host = host
        self.zone = zone
        self.rule = rule
        self.action = action
        self.shadow = shadow
        self.effects = effects
        self.status = status
        self.bytes = bytes
        self.durationMicroseconds = durationMicroseconds
        self.decisionNanoseconds = decisionNanoseconds
        self.referer = referer
        self.userAgent = userAgent
    }

    /// Whether the censor stood between the visitor and the page: every action but
    /// `allow` (a sign-in prompt included), and an allowed page that was rewritten.
    public var isCensored: Bool {
        Self.isCensored(action: action, effects: effects)
    }

    /// `isCensored` from the two fields it reads (for callers that hold them apart).
    public static func isCensored(action: String, effects: [String]) -> Bool {
        !notCensorship.contains(action) || effects.contains("rewrite")
    }

    /// Actions of answers that are not the censor's: the page let through, the PAC file
    /// setting a browser up, the students' lab page, the portal's sign-in form.
    public static let notCensorship: Set<String> = ["allow", "proxy-config", "lab", "sign-in", "sign-out"]

    // MARK: - Reading

    public enum ReadProblem: Error, CustomStringConvertible {
        case notAnEvent(line: Int, reason: String)

        public var description: String {
            switch self {
            case .notAnEvent(let line, let reason): "line \(line): not an audit event (\(reason))"
            }
        }
    }

    /// Reads one JSON line as written by `jsonLine`.
    public static func parse(jsonLine line: Substring, lineNumber: Int) throws(ReadProblem) -> AuditEvent {
        let decoder = JSONDecoder()
        do {
            let raw = try decoder.decode(Stored.self, from: Data(line.utf8))
            guard let time = RFC3339.milliseconds(raw.time) else {
                throw ReadProblem.notAnEvent(line: lineNumber, reason: "time '\(raw.time)' is not RFC 3339")
            }
            return AuditEvent(
                time: time, listener: raw.listener, client: raw.client, visitorClass: raw.visitorClass, account: raw.account,
                method: raw.method, url: raw.url, host: raw.host, zone: raw.zone, rule: raw.rule, action: raw.action,
                shadow: raw.shadow ?? [], effects: raw.effects ?? [], status: raw.status, bytes: raw.bytes,
                durationMicroseconds: raw.durationMicroseconds ?? 0, decisionNanoseconds: raw.decisionNanoseconds ?? 0,
                referer: raw.referer, userAgent: raw.userAgent, suppressed: raw.suppressed
            )
        } catch let problem as ReadProblem {
            throw problem
        } catch DecodingError.keyNotFound(let key, _) {
            throw .notAnEvent(line: lineNumber, reason: "no '\(key.stringValue)'")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw .notAnEvent(line: lineNumber, reason: "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw .notAnEvent(line: lineNumber, reason: "not JSON")
        }
    }

    /// The line as stored: time as text, optional fields optional.
    private struct Stored: Decodable {
        var time: String
        var listener: String
        var client: String
        var visitorClass: String
        var account: String?
        var method: String
        var url: String
        var host: String
        var zone: String?
        var rule: String?
        var action: String
        var shadow: [Shadow]?
        var effects: [String]?
        var status: Int
        var bytes: Int
        var durationMicroseconds: Int?
        var decisionNanoseconds: Int?
        var referer: String?
        var userAgent: String?
        var suppressed: Int?

        enum CodingKeys: String, CodingKey {
            case time, listener, client, account, method, url, host, zone, rule, action, shadow, effects, status, bytes, referer, suppressed
            case visitorClass = "class"
            case durationMicroseconds = "duration_us"
            case decisionNanoseconds = "decision_ns"
            case userAgent = "user_agent"
        }
    }

    // MARK: - Writing

    /// The event as one line of JSON (with the final newline).
    public func jsonLine() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(384)
        appendJSONLine(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the event as one line of JSON (with the final newline) to `bytes`.
    /// Written by hand into bytes: the log's writer formats tens of thousands a second,
    /// and the keys keep one order.
    public func appendJSONLine(to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"time":""#.utf8)
        RFC3339.append(milliseconds: time, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        JSONText.appendField(#","listener":"#, listener, to: &bytes)
        JSONText.appendField(#","client":"#, client, to: &bytes)
        appendRequestFields(to: &bytes, zone: true)
        appendShadowEffectsAndStatus(to: &bytes)
        bytes.append(contentsOf: #","bytes":"#.utf8)
        JSONText.appendDecimal(self.bytes, to: &bytes)
        bytes.append(contentsOf: #","duration_us":"#.utf8)
        JSONText.appendDecimal(durationMicroseconds, to: &bytes)
        bytes.append(contentsOf: #","decision_ns":"#.utf8)
        JSONText.appendDecimal(decisionNanoseconds, to: &bytes)
        if let referer { JSONText.appendField(#","referer":"#, referer, to: &bytes) }
        if let userAgent { JSONText.appendField(#","user_agent":"#, userAgent, to: &bytes) }
        if let suppressed {
            bytes.append(contentsOf: #","suppressed":"#.utf8)
            JSONText.appendDecimal(suppressed, to: &bytes)
        }
        bytes.append(contentsOf: "}\n".utf8)
    }

    /// `,"class":...` to `,"action":...`: who asked for what, and what the censor did (the
    /// log line names the zone too; the feed row does not).
    private func appendRequestFields(to bytes: inout [UInt8], zone withZone: Bool) {
        JSONText.appendField(#","class":"#, visitorClass, to: &bytes)
        JSONText.appendField(#","account":"#, account, to: &bytes)
        JSONText.appendField(#","method":"#, method, to: &bytes)
        JSONText.appendField(#","url":"#, url, to: &bytes)
        JSONText.appendField(#","host":"#, host, to: &bytes)
        if withZone { JSONText.appendField(#","zone":"#, zone, to: &bytes) }
        JSONText.appendField(#","rule":"#, rule, to: &bytes)
        JSONText.appendField(#","action":"#, action, to: &bytes)
    }

    /// `,"shadow":[...],"effects":[...],"status":N`: the part the log line and the feed
    /// row share.
    private func appendShadowEffectsAndStatus(to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #","shadow":["#.utf8)
        for (index, match) in shadow.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: #"{"rule":"#.utf8)
            JSONText.append(match.rule, to: &bytes)
            bytes.append(contentsOf: #","action":"#.utf8)
            JSONText.append(match.action, to: &bytes)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(contentsOf: #"],"effects":["#.utf8)
        for (index, effect) in effects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONText.append(effect, to: &bytes)
        }
        bytes.append(contentsOf: #"],"status":"#.utf8)
        JSONText.appendDecimal(status, to: &bytes)
    }

    /// Appends the fields a live-feed row shows, as one JSON object numbered `id`:
    /// id, time, class, account, method, url, host, rule, action, shadow, effects, status.
    public func appendFeedJSON(id: Int, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"id":"#.utf8)
        JSONText.appendDecimal(id, to: &bytes)
        bytes.append(contentsOf: #","time":""#.utf8)
        RFC3339.append(milliseconds: time, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        appendRequestFields(to: &bytes, zone: false)
        appendShadowEffectsAndStatus(to: &bytes)
        bytes.append(UInt8(ascii: "}"))
    }

    /// The event in the Combined Log Format of Apache and nginx (with the final newline),
    /// for tools that read access logs: `client - account [time] "METHOD url HTTP/1.1"
    /// status bytes "referer" "user-agent"`. A dropped connection's status is 0.
    public func combinedLine() -> String {
        let user = account.map(Self.combinedField) ?? "-"
        let request = suppressed.map { "- (\($0) requests beyond this client's share of the log) -" } ?? "\(method) \(url) HTTP/1.1"
        return "\(client) - \(user) [\(RFC3339.combinedFormat(milliseconds: time))] \"\(Self.combinedField(request))\" \(status) \(bytes) "
            + "\"\(referer.map(Self.combinedField) ?? "-")\" \"\(userAgent.map(Self.combinedField) ?? "-")\"\n"
    }

    /// A field for a quoted log position, with quotes, backslashes and control
    /// characters escaped as nginx does (`\xHH`).
    static func combinedField(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// JSON string literals and numbers, written by hand into bytes for the audit log.
enum JSONText {
    /// `key` as written (e.g. `,"host":`), then `value` as JSON.
    static func appendField(_ key: StaticString, _ value: String?, to bytes: inout [UInt8]) {
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        append(value, to: &bytes)
    }

    static func append(_ value: String?, to bytes: inout [UInt8]) {
        guard var text = value else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        text.withUTF8 { utf8 in
            var clean = 0
            for byte in utf8 {
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { break }
                clean += 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[..<clean]))
            for byte in utf8[clean...] {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
                case ..<0x20: bytes.append(contentsOf: ("\\u" + String(byte, radix: 16).leftPadded(to: 4)).utf8)
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A whole number in decimal, without making a String.
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDecimal(value == Int.min ? Int.max : -value, to: &bytes)
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }
}
