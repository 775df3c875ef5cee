import Foundation
import GardenPolicy
import Testing

/// `schedule` conditions: days, a time window (also past midnight) and a time zone, with
/// the time given as a fact so every case is repeatable.
@Suite struct ScheduleTests {
    static let policy: Policy = {
        let text = """
        classes:
          citizen: Everyone.
        default_class: citizen
        rules:
          - id: exam-time
            reason: The network is off while exams are written.
            schedule: {days: [mon-fri], from: "08:00", to: "11:00", time_zone: Asia/Pyongyang}
            action: drop
          - id: night
            reason: Nights are quiet.
            schedule:
              - {days: [fri, sat], from: "22:00", to: "02:00", time_zone: Europe/Berlin}
              - {days: [sun], time_zone: UTC}
            action: notfound
        default: allow
        """
        return try! Policy.parse(.init(file: "Config/policy.yaml", text: text))
    }()

    @Test(arguments: [
        // Monday 2026-11-30, Pyongyang is UTC+9.
        ("2026-11-30T08:00:00+09:00", "exam-time"),
        ("2026-11-30T10:59:59+09:00", "exam-time"),
        ("2026-11-30T11:00:00+09:00", "default"),
        ("2026-12-01T07:59:00+09:00", "default"),
        // Monday 07:59 in Pyongyang is still Sunday in UTC: the second rule's Sunday.
        ("2026-11-30T07:59:00+09:00", "night"),
        ("2026-11-29T23:30:00Z", "exam-time"),  // already Monday 08:30 in Pyongyang
        // Saturday in Pyongyang is not a weekday.
        ("2026-12-05T14:00:00+09:00", "default"),
        // Friday 23:00 and Saturday 01:30 in Berlin (UTC+1 in winter) are in the night window...
        ("2026-12-04T23:00:00+01:00", "night"),
        ("2026-12-05T01:30:00+01:00", "night"),
        // ... Thursday night is not; Saturday night runs into Sunday, which is listed anyway.
        ("2026-12-03T23:00:00+01:00", "default"),
        ("2026-12-06T01:00:00+01:00", "night"),
        // All of Sunday (UTC).
        ("2026-12-06T12:00:00Z", "night"),
        // Summer time moves Berlin's clock: 22:30 CEST is 20:30 UTC.
        ("2026-07-03T20:30:00Z", "night"),
        ("2026-07-03T21:30:00+02:00", "default"),
    ])
    func windowsFollowTheirClock(moment: String, rule: String) throws {
        let time = try #require(Schedule.moment(moment))
        let facts = RequestFacts(visitorClass: "citizen", host: "friend.com.kp", zone: .intranet, time: time)
        #expect(Self.policy.decide(facts).ruleID == rule)
    }

    @Test(arguments: [
        ("2026-11-30T10:00:00+09:00", 1_796_000_400 as Int64),
        ("2026-11-30T01:00:00Z", 1_796_000_400),
        ("2026-11-30T10:00+09:00", 1_796_000_400),
        ("2026-11-30 01:00:00z", 1_796_000_400),
    ])
    func momentsAreRFC3339(text: String, seconds: Int64) {
        #expect(Schedule.moment(text) == seconds)
    }

    @Test(arguments: ["tomorrow", "2026-11-30", "2026-11-30T25:00:00Z", ""])
    func badMomentsAreRefused(text: String) {
        #expect(Schedule.moment(text) == nil)
    }

    @Test(arguments: [
        ("days: [mon-fri], from: \"08:00\", to: \"11:00\"", "weekdays 08:00–11:00 (UTC)"),
        ("days: [sat, sun]", "weekends all day (UTC)"),
        ("days: [fri-mon]", "mon, fri, sat, sun all day (UTC)"),
        ("from: \"22:00\", to: \"06:00\"", "every day 22:00–06:00 (UTC)"),
    ])
    func schedulesReadAsWords(settings: String, wording: String) throws {
        let text = "classes: {c: C}\ndefault_class: c\nrules:\n  - {id: r, reason: R, schedule: {\(settings), time_zone: UTC}, action: block}\ndefault: allow\n"
        let policy = try Policy.parse(.init(file: "p.yaml", text: text))
        guard case .schedule(let windows) = policy.rules[0].conditions[0] else {
            Issue.record("not a schedule")
            return
        }
        #expect(windows.map(\.description) == [wording])
    }

    @Test(arguments: [
        ("days: [someday]", "p.yaml:4:42: 'someday' is not a day; write mon, tue, ..., a range like mon-fri, weekdays, weekend or daily"),
        ("days: [mnday]", "p.yaml:4:42: 'mnday' is not a day; write mon, tue, ..., a range like mon-fri, weekdays, weekend or daily"),
        ("from: \"8am\"", "p.yaml:4:41: from must be a time of day such as 09:00 or 17:30, not '8am'"),
        ("from: \"09:00\", to: \"09:00\"", "p.yaml:4:34: the schedule's 'from' and 'to' are the same time; the window would be empty"),
        ("time_zone: Mars/Olympus", "p.yaml:4:46: unknown time zone 'Mars/Olympus'; use an IANA name such as Asia/Pyongyang, Europe/Berlin or UTC"),
        ("weekdays: true", "p.yaml:4:35: unknown key 'weekdays' in a schedule; known keys: 'days', 'from', 'to', 'time_zone'"),
    ])
    func mistakesArePinpointed(settings: String, expected: String) {
        let text = "classes: {c: C}\ndefault_class: c\nrules:\n  - {id: r, reason: R, schedule: {\(settings)}, action: block}\ndefault: allow\n"
        do {
            _ = try Policy.parse(.init(file: "p.yaml", text: text))
            Issue.record("accepted \(settings)")
        } catch {
            #expect(error.diagnostics.map(\.description).contains(expected), "\(error.diagnostics.map(\.description))")
        }
    }
}
