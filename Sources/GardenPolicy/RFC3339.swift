import Foundation

/// Timestamps of the audit log: RFC 3339 in UTC with milliseconds
/// (`2026-11-28T19:20:01.123Z`), and the Combined Log Format's `28/Nov/2026:19:20:01 +0000`.
///
/// Formatted by arithmetic, not by a date formatter: the log's writer formats one per
/// request.
public enum RFC3339 {
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Year, month, day, hour, minute, second and millisecond of a UTC instant.
    struct Parts: Equatable {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int
    }

    static func parts(milliseconds: Int64) -> Parts {
        let millisecond = Int(((milliseconds % 1000) + 1000) % 1000)
        let seconds = (milliseconds - Int64(millisecond)) / 1000
        var days = Int(seconds / 86_400)
        var secondOfDay = Int(seconds % 86_400)
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // Howard Hinnant's civil_from_days.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return Parts(
            year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60,
            millisecond: millisecond
        )
    }

    /// `2026-11-28T19:20:01.123Z`.
    public static func format(milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(milliseconds: milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `2026-11-28T19:20:01.123Z` to `bytes`, digit by digit.
    public static func append(milliseconds: Int64, to bytes: inout [UInt8]) {
        let p = parts(milliseconds: milliseconds)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(p.year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(p.month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(p.day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(p.hour, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(p.minute, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(p.second, 2)
        bytes.append(UInt8(ascii: "."))
        digits(p.millisecond, 3)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// `28/Nov/2026:19:20:01 +0000`, as in Apache's and nginx's access logs.
    public static func combinedFormat(milliseconds: Int64) -> String {
        let p = parts(milliseconds: milliseconds)
        return "\(pad(p.day, 2))/\(monthNames[p.month - 1])/\(pad(p.year, 4)):\(pad(p.hour, 2)):\(pad(p.minute, 2)):\(pad(p.second, 2)) +0000"
    }

    /// Reads an RFC 3339 moment (any offset, fraction optional) as milliseconds since 1970.
    public static func milliseconds(_ text: String) -> Int64? {
        // The fraction is cut off for `Schedule.moment`, which reads whole seconds.
        var whole = text
        var millisecond: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty else { return nil }
            millisecond = Int64(String(digits.prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0
            whole = String(text[..<dot]) + String(text[text.index(dot, offsetBy: 1 + digits.count)...])
        }
        guard let seconds = Schedule.moment(whole) else { return nil }
        return seconds * 1000 + millisecond
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        String(value).leftPadded(to: width)
    }
}
