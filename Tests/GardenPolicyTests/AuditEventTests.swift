import GardenPolicy
import Testing

/// The audit log's lines: JSON that reads back as written (escapes included), RFC 3339
/// times with milliseconds, and the Combined Log Format.
@Suite struct AuditEventTests {
    static let sample = AuditEvent(
        time: 1_795_893_601_123, listener: "127.0.0.1:8080", client: "127.0.0.1", visitorClass: "citizen", account: "inspector",
        method: "GET", url: "http://friend.com.kp/search?q=\"오빠\"\\\n", host: "friend.com.kp", zone: "intranet",
        rule: "citizens-stay-inside", action: "block", shadow: [.init(rule: "phrase-filter", action: "block")],
        effects: ["rewrite", "monitor"], status: 403, bytes: 1234, durationMicroseconds: 87, decisionNanoseconds: 412,
        referer: nil, userAgent: "curl/7.88.1\t\u{01}"
    )

    @Test func aLineReadsBackAsWritten() throws {
        let line = Self.sample.jsonLine()
        #expect(line.hasSuffix("}\n"))
        #expect(!line.dropLast().contains("\n"))
        #expect(line.hasPrefix("{\"time\":\"2026-11-28T19:20:01.123Z\","))
        let read = try AuditEvent.parse(jsonLine: Substring(line.dropLast()), lineNumber: 1)
        #expect(read == Self.sample)
    }

    @Test func aMinimalEventReadsBack() throws {
        let event = AuditEvent(
            time: 0, listener: "l", client: "-", visitorClass: "", method: "-", url: "-", host: "-", rule: nil, action: "refused",
            status: 400, bytes: 10
        )
        #expect(try AuditEvent.parse(jsonLine: Substring(event.jsonLine()), lineNumber: 1) == event)
    }

    @Test(arguments: [
        ("", "line 3: not an audit event (not JSON)"),
        ("{\"time\":\"yesterday\",\"listener\":\"l\",\"client\":\"c\",\"class\":\"x\",\"method\":\"GET\",\"url\":\"u\",\"host\":\"h\",\"action\":\"allow\",\"status\":200,\"bytes\":1}",
         "line 3: not an audit event (time 'yesterday' is not RFC 3339)"),
        ("{\"time\":\"2026-11-28T19:20:01Z\"}", "line 3: not an audit event (no 'listener')"),
        ("{\"time\":\"2026-11-28T19:20:01Z\",\"listener\":\"l\",\"client\":\"c\",\"class\":\"x\",\"method\":\"GET\",\"url\":\"u\",\"host\":\"h\",\"action\":\"allow\",\"status\":\"OK\",\"bytes\":1}",
         "line 3: not an audit event ('status' has the wrong type)"),
    ])
    func badLinesAreNamed(line: String, expected: String) {
        #expect(throws: AuditEvent.ReadProblem.self) { try AuditEvent.parse(jsonLine: Substring(line), lineNumber: 3) }
        do {
            _ = try AuditEvent.parse(jsonLine: Substring(line), lineNumber: 3)
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z", "01/Jan/1970:00:00:00 +0000"),
        (Int64(951_782_400_007), "2000-02-29T00:00:00.007Z", "29/Feb/2000:00:00:00 +0000"),
        (Int64(1_795_893_601_123), "2026-11-28T19:20:01.123Z", "28/Nov/2026:19:20:01 +0000"),
        (Int64(4_102_444_799_999), "2099-12-31T23:59:59.999Z", "31/Dec/2099:23:59:59 +0000"),
        (Int64(-1), "1969-12-31T23:59:59.999Z", "31/Dec/1969:23:59:59 +0000"),
    ])
    func timesAreFormattedAndReadBack(milliseconds: Int64, rfc3339: String, combined: String) {
        #expect(RFC3339.format(milliseconds: milliseconds) == rfc3339)
        #expect(RFC3339.combinedFormat(milliseconds: milliseconds) == combined)
        #expect(RFC3339.milliseconds(rfc3339) == milliseconds)
    }

    @Test func otherOffsetsAndPrecisionsAreRead() {
        #expect(RFC3339.milliseconds("2026-11-29T04:20:01.5+09:00") == 1_795_893_601_500)
        #expect(RFC3339.milliseconds("2026-11-28T19:20:01Z") == 1_795_893_601_000)
        #expect(RFC3339.milliseconds("2026-11-28T19:20:01.123456Z") == 1_795_893_601_123)
        #expect(RFC3339.milliseconds("2026-11-28T19:20:01.Z") == nil)
    }

    @Test func combinedLineEscapesQuotesAndControls() {
        let line = Self.sample.combinedLine()
        #expect(line == "127.0.0.1 - inspector [28/Nov/2026:19:20:01 +0000] \"GET http://friend.com.kp/search?q=\\x22오빠\\x22\\x5C\\x0A HTTP/1.1\" 403 1234 \"-\" \"curl/7.88.1\\x09\\x01\"\n")
    }

    @Test func censoredMeansAnythingButAPlainAllow() {
        var event = Self.sample
        #expect(event.isCensored)
        event.action = "allow"
        #expect(event.isCensored)  // rewritten
        event.effects = ["monitor"]
        #expect(!event.isCensored)
    }
}
