import EmuPOSIX
import Glibc

/// A moment as emu records it: seconds and nanoseconds since the epoch.
/// Names and user-facing dates are in local time, as `ls` shows them.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// How far after the clock of the machine that keeps a sink a snapshot
    /// may be dated (seconds): two machines' clocks differ a little.
    public static let futureSkew: Int64 = 300

    /// The latest date a snapshot may have: 9999-12-31 23:59:59 UTC.
    package static let latestPlausible: Int64 = 253_402_300_799

    /// Whether this is a date a snapshot can have: nanoseconds within a
    /// second, seconds from 1970 to the year 9999 (what arrives from a
    /// client or a record is checked with this before it is used).
    public var isPlausible: Bool { nanoseconds >= 0 && nanoseconds < 1_000_000_000 && seconds >= 0 && seconds <= Self.latestPlausible }

    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// `1763716500.123456789`: the exact form kept in records.
    public var description: String {
        let nanos = String(nanoseconds)
        return "\(seconds)." + String(repeating: "0", count: max(0, 9 - nanos.count)) + nanos
    }

    /// Parses the exact form (`seconds.nanoseconds`, nanoseconds optional).
    public init?(exact text: some StringProtocol) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let seconds = Int64(parts[0]) else { return nil }
        var nanos: Int32 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard digits.allSatisfy(\.isNumber), let value = Int32(digits) else { return nil }
            nanos = value * Int32(pow(10, Double(9 - digits.count)))
        }
        self.init(seconds: seconds, nanoseconds: nanos)
    }

    package var localTime: tm {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        return parts
    }

    package var universalTime: tm {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return parts
    }

    /// `2026-11-21 08.15.00Z`: the snapshot's name in the sink, in UTC, so
    /// that names sort in history order whatever the zone and its daylight
    /// saving time (a name in local time repeats an hour each autumn, and a
    /// push from another zone sorts among the wrong ones). Sinks written
    /// before keep their local names (see `isSnapshotName`).
    public var snapshotName: String {
        let t = universalTime
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1))-\(pad(t.tm_mday)) \(pad(t.tm_hour)).\(pad(t.tm_min)).\(pad(t.tm_sec))Z"
    }

    /// `2026-11-21 09:15:00`: the date as the log shows it (local time).
    public var displayText: String {
        let t = localTime
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1))-\(pad(t.tm_mday)) \(pad(t.tm_hour)):\(pad(t.tm_min)):\(pad(t.tm_sec))"
    }

    /// `2026-11-21T09:15:00+01:00`: ISO 8601 with the local offset, for JSON.
    public var iso8601: String {
        let t = localTime
        let offset = t.tm_gmtoff
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1))-\(pad(t.tm_mday))T\(pad(t.tm_hour)):\(pad(t.tm_min)):\(pad(t.tm_sec))"
            + "\(sign)\(pad(Int32(minutes / 60))):\(pad(Int32(minutes % 60)))"
    }

    /// emu 0.2.5's `date` field: `Saturday November 21 09:15:00 2026`.
    public var legacyText: String {
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let months = ["January", "February", "March", "April", "May", "June", "July", "August",
                      "September", "October", "November", "December"]
        let t = localTime
        return "\(days[Int(t.tm_wday)]) \(months[Int(t.tm_mon)]) \(pad(t.tm_mday)) \(pad(t.tm_hour)):\(pad(t.tm_min)):\(pad(t.tm_sec)) \(t.tm_year + 1900)"
    }

    /// Parses a user's date, in local time: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`
    /// (or with `T`), the snapshot-name form `YYYY-MM-DD HH.MM.SS`, or
    /// `@SECONDS` since the epoch, or as git takes them `now`, `today`,
    /// `yesterday` and `N minutes|hours|days|weeks|months|years ago`. A bare
    /// day means its start, or its end when `dayEnd` is set (the state *as
    /// of* that day).
    public static func parse(_ text: String, dayEnd: Bool = false, now: Timestamp = .now()) -> Timestamp? {
        if text.hasPrefix("@"), let seconds = Timestamp(exact: text.dropFirst()) { return seconds }
        if let relative = parseRelative(text, dayEnd: dayEnd, now: now) { return relative }
        // A trailing Z is UTC (a snapshot's name, ISO 8601); else local time.
        let universal = text.hasSuffix("Z") || text.hasSuffix("z")
        let digits = (universal ? text.dropLast() : text[...]).split(whereSeparator: { "-:. T".contains($0) })
        // ASCII digits only: `isNumber` also takes other scripts' digits and fractions, which Int32 refuses.
        guard digits.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              [3, 5, 6].contains(digits.count),
              digits[0].count == 4
        else { return nil }
        let numbers = digits.compactMap { Int32($0) }
        guard numbers.count == digits.count else { return nil }
        var parts = tm()
        parts.tm_year = numbers[0] - 1900
        parts.tm_mon = numbers[1] - 1
        parts.tm_mday = numbers[2]
        if numbers.count >= 5 {
            parts.tm_hour = numbers[3]
            parts.tm_min = numbers[4]
            parts.tm_sec = numbers.count == 6 ? numbers[5] : 0
        } else if dayEnd {
            parts.tm_hour = 23; parts.tm_min = 59; parts.tm_sec = 59
        }
        guard (1...12).contains(numbers[1]), (1...31).contains(numbers[2]),
              parts.tm_hour < 24, parts.tm_min < 60, parts.tm_sec < 61 else { return nil }
        parts.tm_isdst = -1
        let seconds = universal ? timegm(&parts) : mktime(&parts)
        guard seconds != -1 else { return nil }
        let exact = Timestamp(seconds: Int64(seconds))
        return numbers.count == 3 && dayEnd ? Timestamp(seconds: exact.seconds, nanoseconds: 999_999_999) : exact
    }

    package static func parseRelative(_ text: String, dayEnd: Bool, now: Timestamp) -> Timestamp? {
        let words = text.lowercased().split(separator: " ")
        switch words.count {
        case 1 where words[0] == "now":
            return now
        case 1 where words[0] == "today" || words[0] == "yesterday":
            var day = now.localTime
            if words[0] == "yesterday" { day.tm_mday -= 1 }
            // mktime normalises day 0 to the month before's last day.
            var parts = tm()
            parts.tm_year = day.tm_year; parts.tm_mon = day.tm_mon; parts.tm_mday = day.tm_mday; parts.tm_isdst = -1
            let start = mktime(&parts)
            guard start != -1 else { return nil }
            if !dayEnd { return Timestamp(seconds: Int64(start)) }
            parts = tm()
            parts.tm_year = day.tm_year; parts.tm_mon = day.tm_mon; parts.tm_mday = day.tm_mday + 1; parts.tm_isdst = -1
            return Timestamp(seconds: Int64(mktime(&parts)) - 1, nanoseconds: 999_999_999)
        case 3 where words[2] == "ago":
            guard let count = Int64(words[0]), count >= 0 else { return nil }
            let units: [String: Int64] = ["second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
                                          "month": 30 * 86400, "year": 365 * 86400]
            let unit = words[1].hasSuffix("s") ? String(words[1].dropLast()) : String(words[1])
            guard let size = units[unit] else { return nil }
            let (offset, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, offset <= now.seconds else { return nil }
            return Timestamp(seconds: now.seconds - offset, nanoseconds: now.nanoseconds)
        default:
            return nil
        }
    }

    /// "3 hours ago", for status lines.
    public func age(at now: Timestamp = .now()) -> String {
        Self.span(now.seconds - seconds) + " ago"
    }

    /// "3 hours": a length of time in its largest whole unit.
    public static func span(_ seconds: Int64) -> String {
        let seconds = max(0, seconds)
        let units: [(Int64, String)] = [(86400 * 365, "year"), (86400 * 30, "month"), (86400 * 7, "week"), (86400, "day"), (3600, "hour"), (60, "minute")]
        for (size, name) in units where seconds >= size {
            let n = seconds / size
            return "\(n) \(name)\(n == 1 ? "" : "s")"
        }
        return "\(seconds) second\(seconds == 1 ? "" : "s")"
    }
}

private func pad(_ value: Int32, _ width: Int = 2) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

extension Timestamp {
    /// Whether `text` has the form of a snapshot's date name: in UTC with
    /// a Z, or in local time as emu before 0.4 (and 0.2.5) named them.
    package static func isSnapshotName(_ text: String) -> Bool {
        var bytes = Array(text.utf8)
        if bytes.count == 20 && bytes.last == UInt8(ascii: "Z") { bytes.removeLast() }
        guard bytes.count == 19 else { return false }
        for (i, b) in bytes.enumerated() {
            switch i {
            case 4, 7: if b != UInt8(ascii: "-") { return false }
            case 10: if b != UInt8(ascii: " ") { return false }
            case 13, 16: if b != UInt8(ascii: ".") { return false }
            default: if !(0x30...0x39).contains(b) { return false }
            }
        }
        return true
    }
}
