import FoundationEssentials

/// A standard 5-field cron expression (`minute hour day-of-month month day-of-week`) or one of the
/// macros `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
///
/// Fields: `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from `a` to the field's maximum),
/// and comma lists of these. Months may be written `JAN`-`DEC` and days of week `SUN`-`SAT`
/// (case-insensitive); day of week 0 and 7 are both Sunday, and a range may end on Sunday
/// (`FRI-SUN`, `5-0` and `5-7` all mean Friday to Sunday).
///
/// Day matching follows Vixie cron: when both day of month and day of week are restricted, a day
/// matches if EITHER matches; otherwise both must match. As in Vixie cron, a field counts as
/// unrestricted when it starts with `*`, so `*/2` in the day-of-month field does not switch on the
/// either-or rule.
public struct CronExpression: Sendable, Hashable {
    /// The text as it was parsed.
    public let source: String

    /// Allowed values as bit sets: bit `n` set means value `n` is allowed.
    let minutes: UInt64       // bits 0...59
    let hours: UInt64         // bits 0...23
    let daysOfMonth: UInt64   // bits 1...31
    let months: UInt64        // bits 1...12
    let daysOfWeek: UInt64    // bits 0...6, 0 = Sunday (7 is folded into 0)
    /// Whether the field starts with `*` (see the type's documentation for why it matters).
    let dayOfMonthIsWildcard: Bool
    let dayOfWeekIsWildcard: Bool

    /// Parses `text`; on failure the error locates the offending part in Characters of `text`.
    public static func parse(_ text: String) -> Result<CronExpression, CronParseError> {
        let parser = Parser(text: text)
        do {
            return .success(try parser.parse())
        } catch {
            return .failure(error)
        }
    }

    /// The first firing strictly after `date`, evaluated in `timeZone`; nil if none within 5 years.
    ///
    /// Firings are wall-clock times in `timeZone`. Daylight saving time:
    /// - Spring forward: a wall-clock time that does not exist that day (02:30 on the day New York
    ///   jumps from 02:00 to 03:00) does NOT fire; the next matching time that exists is used instead.
    ///   So `30 2 * * *` skips that day and fires at 02:30 the next day, while `*/15 * * * *` goes
    ///   straight from 01:45 to 03:00. A skipped time is never shifted to a different wall-clock time.
    /// - Fall back: a wall-clock time that happens twice (01:30 on the day New York goes from 02:00
    ///   back to 01:00) fires once, at its first occurrence (01:30 EDT); the repeated hour does not
    ///   fire again, for any expression.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        let seconds = date.timeIntervalSince1970
        // Beyond about ±7,900 years the arithmetic below is not meaningful (and Double loses minutes).
        guard seconds.isFinite, abs(seconds) < 1.9e11 else { return nil }

        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let now = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard let year = now.year, let month = now.month, let day = now.day,
              let hour = now.hour, let minute = now.minute else { return nil }
        let limit = calendar.date(byAdding: .year, value: 5, to: date) ?? date.addingTimeInterval(5 * 366 * 86_400)

        // Walk wall-clock times from the minute after `date`'s, skipping whole months, days and hours
        // that cannot match, so each step costs O(1) and a 5-year search takes at most a few thousand steps.
        var wall = WallTime(year: year, month: month, day: day, hour: hour, minute: minute)
        wall.advanceMinute()
        let lastYear = year + 6  // wall-clock years within the 5-year limit, with a year of slack for the time zone
        while wall.year <= lastYear {
            guard let m = Self.firstBit(of: months, from: wall.month, through: 12) else {
                wall = WallTime(year: wall.year + 1, month: 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if m != wall.month { wall = WallTime(year: wall.year, month: m, day: 1, hour: 0, minute: 0) }

            let lastDay = Self.daysInMonth(year: wall.year, month: wall.month)
            var d = wall.day
            while d <= lastDay && !dayMatches(year: wall.year, month: wall.month, day: d) { d += 1 }
            if d > lastDay { wall.advanceMonth(); continue }
            if d != wall.day { wall.day = d; wall.hour = 0; wall.minute = 0 }

            guard let h = Self.firstBit(of: hours, from: wall.hour, through: 23) else { wall.advanceDay(); continue }
            if h != wall.hour { wall.hour = h; wall.minute = 0 }

            guard let mi = Self.firstBit(of: minutes, from: wall.minute, through: 59) else { wall.advanceHour(); continue }
            wall.minute = mi

            // A matching wall-clock time: fire at its first occurrence, if it exists and is still to come.
            if let instant = Self.firstInstant(of: wall, in: timeZone) {
                if instant > limit { return nil }
                if instant > date { return instant }
            }
            wall.advanceMinute()
        }
        return nil
    }

    private func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let byDayOfMonth = daysOfMonth & (1 << UInt64(day)) != 0
        let byDayOfWeek = daysOfWeek & (1 << UInt64(Self.weekday(year: year, month: month, day: day))) != 0
        if dayOfMonthIsWildcard || dayOfWeekIsWildcard { return byDayOfMonth && byDayOfWeek }
        return byDayOfMonth || byDayOfWeek
    }
}
