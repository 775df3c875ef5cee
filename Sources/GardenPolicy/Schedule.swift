import Foundation

/// A `schedule` condition: days of the week and a time of day, on a named clock
/// (an IANA time zone such as `Asia/Pyongyang`).
///
/// `from`–`to` is half-open (`09:00`–`12:00` ends at 11:59:59). A window whose `to` is
/// earlier than its `from` runs past midnight and belongs to the day it starts on:
/// `fri 22:00`–`02:00` covers Friday night and the first two hours of Saturday.
/// Time is a fact of the request (`RequestFacts.time`), so deciding stays pure and
/// `explain --at` and policy tests can ask about any moment.
public struct Schedule: Sendable, Equatable, CustomStringConvertible {
    /// Days the window starts on, 0 = Sunday ... 6 = Saturday.
    public var days: Set<Int>
    /// Minutes after midnight: the window's start (inclusive) and end (exclusive).
    public var from: Int
    public var to: Int
    public var timeZone: TimeZone
    /// The time zone as written (Foundation calls UTC "GMT").
    public var timeZoneName: String

    /// Every day, all day, on the machine's clock.
    public static var always: Schedule {
        Schedule(days: Set(0...6), from: 0, to: 24 * 60, timeZone: .current, timeZoneName: TimeZone.current.identifier)
    }

    public init(days: Set<Int>, from: Int, to: Int, timeZone: TimeZone, timeZoneName: String? = nil) {
        self.days = days
        self.from = from
        self.to = to
        self.timeZone = timeZone
        self.timeZoneName = timeZoneName ?? timeZone.identifier
    }

    /// Whether the moment `time` (seconds since 1970, UTC) falls in the window.
    public func contains(_ time: Int64) -> Bool {
        let local = time + Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(time))))
        let (day, second) = local.quotientAndRemainder(dividingBy: 86_400)
        let dayNumber = second < 0 ? day - 1 : day
        let minute = Int((second < 0 ? second + 86_400 : second) / 60)
        // 1 January 1970 was a Thursday (4).
        let weekday = Int(((dayNumber % 7) + 7 + 4) % 7)
        if from < to {
            return days.contains(weekday) && minute >= from && minute < to
        }
        // Past midnight: the evening part on a listed day, the morning part the day after one.
        if minute >= from { return days.contains(weekday) }
        if minute < to { return days.contains((weekday + 6) % 7) }
        return false
    }

    /// Reads a moment written as RFC 3339 (`2026-11-30T10:00:00+09:00`, `...Z`, seconds
    /// optional) as seconds since 1970; nil when it is not one.
    public static func moment(_ text: String) -> Int64? {
        var written = text.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: " ", with: "T")
        // Seconds are optional: 2026-11-30T10:00+09:00.
        if let tee = written.firstIndex(of: "T") {
            let clock = written[written.index(after: tee)...]
            let digitsAndColons = clock.prefix { $0.isNumber || $0 == ":" }
            if digitsAndColons.filter({ $0 == ":" }).count == 1 {
                written.insert(contentsOf: ":00", at: digitsAndColons.endIndex)
            }
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: written) else { return nil }
        return Int64(date.timeIntervalSince1970.rounded(.down))
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    static let longDayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    /// A day name (`mon`, `Monday`), a range (`mon-fri`) or a shorthand (`weekdays`,
    /// `weekend`, `daily`) as a set of day numbers; nil if it is none of these.
    static func days(named text: String) -> Set<Int>? {
        let name = text.lowercased().trimmingCharacters(in: .whitespaces)
        switch name {
        case "weekdays": return Set(1...5)
        case "weekend", "weekends": return [0, 6]
        case "daily", "every day", "everyday", "all": return Set(0...6)
        default: break
        }
        func number(_ day: Substring) -> Int? {
            let day = String(day).trimmingCharacters(in: .whitespaces)
            return dayNames.firstIndex(of: day) ?? longDayNames.firstIndex(of: day)
        }
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 2, let first = number(parts[0]), let last = number(parts[1]) {
            var result: Set<Int> = [first]
            var day = first
            while day != last {
                day = (day + 1) % 7
                result.insert(day)
            }
            return result
        }
        return parts.count == 1 ? number(parts[0]).map { [$0] } : nil
    }

    /// `HH:MM` as minutes after midnight (`24:00` is the end of the day); nil otherwise.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 2, (1...2).contains(parts[0].count),
              let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...24).contains(hours), (0...59).contains(minutes), hours * 60 + minutes <= 24 * 60
        else { return nil }
        return hours * 60 + minutes
    }

    public var description: String {
        let dayText: String
        switch days {
        case Set(0...6): dayText = "every day"
        case Set(1...5): dayText = "weekdays"
        case [0, 6]: dayText = "weekends"
        default: dayText = days.sorted { ($0 + 6) % 7 < ($1 + 6) % 7 }.map { Self.dayNames[$0] }.joined(separator: ", ")
        }
        func clock(_ minutes: Int) -> String {
            let hours = minutes / 60, rest = minutes % 60
            return (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
        }
        let timeText = from == 0 && to == 24 * 60 ? "all day" : "\(clock(from))–\(clock(to))"
        return "\(dayText) \(timeText) (\(timeZoneName))"
    }
}
