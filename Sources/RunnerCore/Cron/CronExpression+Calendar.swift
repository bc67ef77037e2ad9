import FoundationEssentials

// MARK: - Calendar arithmetic (proleptic Gregorian, wall-clock)

extension CronExpression {
    /// A wall-clock minute; only ever moved forward to a valid date.
    struct WallTime {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int

        mutating func advanceMonth() {
            if month == 12 { year += 1; month = 1 } else { month += 1 }
            day = 1; hour = 0; minute = 0
        }

        mutating func advanceDay() {
            if day >= CronExpression.daysInMonth(year: year, month: month) { advanceMonth(); return }
            day += 1; hour = 0; minute = 0
        }

        mutating func advanceHour() {
            if hour == 23 { advanceDay(); return }
            hour += 1; minute = 0
        }

        mutating func advanceMinute() {
            if minute == 59 { advanceHour(); return }
            minute += 1
        }
    }

    /// The smallest set bit of `mask` in `from...through`, if any.
    static func firstBit(of mask: UInt64, from: Int, through: Int) -> Int? {
        guard from <= through else { return nil }
        let candidates = mask >> UInt64(from)
        guard candidates != 0 else { return nil }
        let bit = from + candidates.trailingZeroBitCount
        return bit <= through ? bit : nil
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's days_from_civil).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 0 = Sunday ... 6 = Saturday.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return ((days % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday
    }

    /// The earliest instant whose wall-clock time in `timeZone` is `wall`, or nil if the zone skips it.
    ///
    /// Done by hand with UTC offsets rather than `Calendar.date(from:)`, whose handling of skipped and
    /// repeated times is not specified (and differs between platforms).
    static func firstInstant(of wall: WallTime, in timeZone: TimeZone) -> Date? {
        let days = daysSinceEpoch(year: wall.year, month: wall.month, day: wall.day)
        let local = days * 86_400 + wall.hour * 3_600 + wall.minute * 60  // the wall time read as UTC
        var best: Int?
        // Any offset in force at this wall time is in force within a day of it; try each.
        for probe in [local - 86_400, local, local + 86_400] {
            let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(probe)))
            let instant = local - offset
            if timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))) == offset {
                best = min(best ?? instant, instant)
            }
        }
        return best.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }
}
