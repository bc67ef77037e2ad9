import Foundation
import Testing
@testable import RunnerCore

@Suite struct CronParseTests {
    @Test(arguments: [
        "* * * * *", "0 3 * * *", "*/15 * * * *", "0 9-17 * * MON-FRI", "0,30 * 1,15 * *", "5/10 * * * *",
        "0-30/10 * * * *", "0 0 1 JAN *", "0 0 1 jan-Mar *", "0 0 1 JAN,JUL *", "0 0 * * sun", "0 0 * * 7",
        "0 0 * * 1-7", "0 0 * * SAT-SUN", "0 12 * DEC-DEC 5", "  0  3  *  *  *  ", "0\t3\t*\t*\t*",
        "*/15 9-17 * * MON-FRI", "30 2 * * MON-FRI", "59 23 31 12 6", "0 0 1-31/2 */3 1,3,5",
        "@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "@DAILY", "@Midnight",
        " @daily ",
    ])
    func accepts(_ text: String) throws {
        let cron = try CronExpression.parse(text).get()
        #expect(cron.source == text)
    }

    static func bits(_ values: [Int]) -> UInt64 { values.reduce(0) { $0 | (1 << UInt64($1)) } }

    @Test func fieldsExpandToTheirValues() throws {
        let a = try CronExpression.parse("*/15 9-17/4 5/10 JAN,jul SAT-SUN").get()
        #expect(a.minutes == Self.bits([0, 15, 30, 45]))
        #expect(a.hours == Self.bits([9, 13, 17]))
        #expect(a.daysOfMonth == Self.bits([5, 15, 25]))
        #expect(a.months == Self.bits([1, 7]))
        #expect(a.daysOfWeek == Self.bits([6, 0]))
        #expect(!a.dayOfMonthIsWildcard && !a.dayOfWeekIsWildcard)

        let b = try CronExpression.parse("0 0 */2 * 7").get()
        #expect(b.daysOfMonth == Self.bits(Array(stride(from: 1, through: 31, by: 2))))
        #expect(b.daysOfWeek == Self.bits([0]))
        #expect(b.dayOfMonthIsWildcard && !b.dayOfWeekIsWildcard)

        let c = try CronExpression.parse("* * * * 1-7").get()
        #expect(c.daysOfWeek == Self.bits(Array(0...6)))
        #expect(c.minutes == Self.bits(Array(0...59)))
        #expect(c.hours == Self.bits(Array(0...23)))
    }

    @Test(arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"), ("@HOURLY", "0 * * * *"),
    ])
    func macrosExpand(_ macro: String, _ fields: String) throws {
        let m = try CronExpression.parse(macro).get()
        let f = try CronExpression.parse(fields).get()
        #expect(m.source == macro)
        #expect(m.minutes == f.minutes && m.hours == f.hours && m.daysOfMonth == f.daysOfMonth)
        #expect(m.months == f.months && m.daysOfWeek == f.daysOfWeek)
        #expect(m.dayOfMonthIsWildcard == f.dayOfMonthIsWildcard && m.dayOfWeekIsWildcard == f.dayOfWeekIsWildcard)
    }

    @Test(arguments: [
        // text, offset, length, exact message
        ("", 0, 1, "empty cron expression"),
        ("   ", 0, 3, "empty cron expression"),
        ("* * * *", 6, 1, "expected 5 fields, found 4"),
        ("* * * 10", 6, 2, "expected 5 fields, found 4"),
        ("0 * * * * *", 10, 1, "expected 5 fields, found 6"),
        ("0 0 3 * * * 2026", 10, 6, "expected 5 fields, found 7"),
        ("1,,2 * * * *", 1, 1, "empty item in the minute list"),
        ("* 1, * * *", 3, 1, "empty item in the hour list"),
        ("* * ,5 * *", 4, 1, "empty item in the day of month list"),
        ("61 * * * *", 0, 2, "minute value 61 is out of range 0-59"),
        ("0 25 * * *", 2, 2, "hour value 25 is out of range 0-23"),
        ("* * 0 * *", 4, 1, "day of month value 0 is out of range 1-31"),
        ("* * 32 * *", 4, 2, "day of month value 32 is out of range 1-31"),
        ("* * * 13 *", 6, 2, "month value 13 is out of range 1-12"),
        ("* * * * 8", 8, 1, "day of week value 8 is out of range 0-7"),
        ("0 1-99 * * *", 4, 2, "hour value 99 is out of range 0-23"),
        ("99999999999999999999 * * * *", 0, 20, "minute value 99999999999999999999 is out of range 0-59"),
        ("17-5 * * * *", 0, 4, "minute range 17-5 runs backwards"),
        ("0 0 * * FRI-MON", 8, 7, "day of week range FRI-MON runs backwards"),
        ("-5 * * * *", 0, 1, "minute range is missing its start value"),
        ("5- * * * *", 1, 1, "minute range is missing its end value"),
        ("*/0 * * * *", 2, 1, "minute step 0 is not allowed"),
        ("*/x * * * *", 2, 1, "minute step 'x' is not a number"),
        ("0 */1.5 * * *", 4, 3, "hour step '1.5' is not a number"),
        ("*/ * * * *", 1, 1, "missing step after '/' in minute"),
        ("/5 * * * *", 0, 1, "missing value before '/' in minute"),
        ("*/60 * * * *", 2, 2, "minute step 60 is larger than the minute range"),
        ("0 0 * JNA *", 6, 3, "'JNA' is not a valid month"),
        ("0 0 * * FUN", 8, 3, "'FUN' is not a valid day of week"),
        ("0 0 * * MONDAY", 8, 6, "'MONDAY' is not a valid day of week"),
        ("0 0 * * JAN", 8, 3, "'JAN' is not a valid day of week"),
        ("a * * * *", 0, 1, "'a' is not a valid minute"),
        ("5a * * * *", 0, 2, "'5a' is not a valid minute"),
        ("0 0 L * *", 4, 1, "'L' is not a valid day of month"),
        ("5#2 * * * *", 1, 1, "unexpected character '#' in minute"),
        ("0 0 ? * MON", 4, 1, "unexpected character '?' in day of month"),
        ("*-5 * * * *", 0, 1, "unexpected character '*' in minute"),
        ("1-2-3 * * * *", 3, 1, "unexpected character '-' in minute"),
        ("0 👍🏽 * * *", 2, 1, "unexpected character '👍🏽' in hour"),
        ("é 0 * * *", 0, 1, "unexpected character 'é' in minute"),
        ("0 0 * * MON🙂", 11, 1, "unexpected character '🙂' in day of week"),
        ("@dayly", 0, 6, "unknown cron macro '@dayly'"),
        ("  @hourley", 2, 8, "unknown cron macro '@hourley'"),
        ("@reboot", 0, 7, "unknown cron macro '@reboot'"),
        ("@daily 5", 7, 1, "'@daily' stands alone: a macro takes no other fields"),
        ("@weekly 0 0 * *", 8, 7, "'@weekly' stands alone: a macro takes no other fields"),
    ])
    func rejectsWithPosition(_ text: String, _ offset: Int, _ length: Int, _ message: String) throws {
        let result = CronExpression.parse(text)
        guard case .failure(let e) = result else {
            Issue.record("'\(text)' parsed")
            return
        }
        #expect(e.message == message, "message for '\(text)'")
        #expect(e.offset == offset, "offset for '\(text)'")
        #expect(e.length == length, "length for '\(text)'")
        #expect(e.message.first?.isUppercase == false, "message starts lowercase")
        #expect(e.offset + e.length <= max(1, text.count), "the error lies within the text")
    }

    @Test(arguments: [
        ("@dayly", "did you mean '@daily'?"),
        ("@anually", "did you mean '@annually'?"),
        ("@Hourli", "did you mean '@hourly'?"),
        ("daily", "did you mean '@daily'?"),
        ("0 0 * JNA *", "did you mean 'JAN'?"),
        ("0 0 * JANUARY *", "did you mean 'JAN'?"),
        ("0 0 * * FUN", "did you mean 'SUN'?"),
        ("0 0 * * thurs", "did you mean 'THU'?"),
        ("61 * * * *", "minute is 0-59"),
        ("0 25 * * *", "hour is 0-23"),
        ("* * * * 8", "day of week is 0-7 (0 and 7 are Sunday) or SUN-SAT"),
        ("* * * *", "write minute hour day-of-month month day-of-week, e.g. '0 3 * * *'"),
        ("0 0 3 * * *", "6-field cron (with a seconds field) is not supported; write minute hour day-of-month month day-of-week, e.g. '0 3 * * *'"),
        ("22-2 * * * *", "ranges do not wrap around; write '22-59,0-2'"),
        ("0 0 * * FRI-MON", "ranges do not wrap around; write 'FRI-SAT,SUN-MON'"),
        ("0 0 ? * MON", "'?' is Quartz syntax and is not supported; use '*'"),
    ])
    func hints(_ text: String, _ hint: String) {
        guard case .failure(let e) = CronExpression.parse(text) else {
            Issue.record("'\(text)' parsed")
            return
        }
        #expect(e.hint == hint, "hint for '\(text)'")
    }

    @Test func unknownMacroWithoutAGuessListsTheMacros() throws {
        guard case .failure(let e) = CronExpression.parse("@sometimes") else { Issue.record("parsed"); return }
        #expect(e.hint?.contains("@hourly") == true)
        guard case .failure(let r) = CronExpression.parse("@reboot") else { Issue.record("parsed"); return }
        #expect(r.hint?.contains("not supported") == true)
    }

    @Test func equalTextGivesEqualExpressions() throws {
        #expect(try CronExpression.parse("0 3 * * *").get() == CronExpression.parse("0 3 * * *").get())
        #expect(try CronExpression.parse("0 3 * * *").get() != CronExpression.parse("0 4 * * *").get())
    }
}

@Suite struct CronNextFireTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    static func instant(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    static func next(_ cron: String, after: String, in tz: TimeZone = utc) throws -> String? {
        let c = try CronExpression.parse(cron).get()
        return c.nextFire(after: instant(after), in: tz).map { ISO8601DateFormatter().string(from: $0) }
    }

    @Test(arguments: [
        ("*/15 * * * *", "2026-03-01T10:07:00Z", "2026-03-01T10:15:00Z"),
        ("*/15 * * * *", "2026-03-01T10:15:00Z", "2026-03-01T10:30:00Z"),
        ("*/15 * * * *", "2026-03-01T23:59:30Z", "2026-03-02T00:00:00Z"),
        ("* * * * *", "2026-03-01T10:07:30Z", "2026-03-01T10:08:00Z"),
        ("0 3 * * *", "2026-03-01T03:00:00Z", "2026-03-02T03:00:00Z"),
        ("0 3 * * *", "2026-03-01T02:59:59Z", "2026-03-01T03:00:00Z"),
        ("0 0 1 * *", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z"),
        ("0 0 1 1 *", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"),
        ("0 0 * * MON-FRI", "2026-11-20T12:00:00Z", "2026-11-23T00:00:00Z"),  // Friday noon -> Monday
        ("0 0 * * MON-FRI", "2026-11-21T00:00:00Z", "2026-11-23T00:00:00Z"),  // Saturday -> Monday
        ("0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 29 2 *", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"),
        ("0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"),
        ("0 0 31 * *", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"),
        ("0 0 31 * *", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"),
        ("59 23 31 12 *", "2026-01-01T00:00:00Z", "2026-12-31T23:59:00Z"),
        ("0 12 * DEC 5", "2026-01-01T00:00:00Z", "2026-12-04T12:00:00Z"),
        ("30 4 * * 7", "2026-11-23T00:00:00Z", "2026-11-29T04:30:00Z"),
        ("0 0 * * SAT-SUN", "2026-11-23T00:00:00Z", "2026-11-28T00:00:00Z"),
        ("@hourly", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"),
        ("@daily", "2026-03-01T10:00:00Z", "2026-03-02T00:00:00Z"),
        ("@midnight", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
        ("@weekly", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00Z"),
        ("@monthly", "2026-11-23T00:00:00Z", "2026-12-01T00:00:00Z"),
        ("@yearly", "2026-03-01T10:00:00Z", "2027-01-01T00:00:00Z"),
        ("@annually", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
    ])
    func utcFirings(_ cron: String, _ after: String, _ expected: String) throws {
        #expect(try Self.next(cron, after: after) == expected, "\(cron) after \(after)")
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        // December 2026: Friday the 11th comes first (day of week), then Sunday the 13th (day of month).
        #expect(try Self.next("0 0 13 * FRI", after: "2026-12-05T00:00:00Z") == "2026-12-11T00:00:00Z")
        #expect(try Self.next("0 0 13 * FRI", after: "2026-12-11T00:00:00Z") == "2026-12-13T00:00:00Z")
        #expect(try Self.next("0 0 13 * FRI", after: "2026-12-13T00:00:00Z") == "2026-12-18T00:00:00Z")
        // Only day of month restricted: the 13th, whatever the weekday.
        #expect(try Self.next("0 0 13 * *", after: "2026-12-05T00:00:00Z") == "2026-12-13T00:00:00Z")
        // Only day of week restricted: Fridays.
        #expect(try Self.next("0 0 * * FRI", after: "2026-12-11T00:00:00Z") == "2026-12-18T00:00:00Z")
    }

    @Test func aWildcardStepKeepsBothDayFieldsRequired() throws {
        // '*/2' starts with '*', so (as in Vixie cron) odd days AND Mondays: November 2026 Mondays are 2, 9, 16.
        #expect(try Self.next("0 0 */2 * MON", after: "2026-11-01T00:00:00Z") == "2026-11-09T00:00:00Z")
    }

    @Test func timeZonesShiftTheWallClock() throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        let kolkata = try #require(TimeZone(identifier: "Asia/Kolkata"))
        #expect(try Self.next("0 3 * * *", after: "2026-03-01T00:00:00Z", in: tokyo) == "2026-03-01T18:00:00Z")
        #expect(try Self.next("0 3 * * *", after: "2026-03-01T18:00:00Z", in: tokyo) == "2026-03-02T18:00:00Z")
        #expect(try Self.next("0 0 * * *", after: "2026-03-01T00:00:00Z", in: kolkata) == "2026-03-01T18:30:00Z")
        // Day of week is the zone's: Monday 00:00 in Tokyo is Sunday 15:00 UTC.
        #expect(try Self.next("0 0 * * MON", after: "2026-11-20T00:00:00Z", in: tokyo) == "2026-11-22T15:00:00Z")
    }

    @Test func springForwardSkipsTheMissingTime() throws {
        // 2026-03-08: New York clocks jump from 02:00 EST to 03:00 EDT; 02:30 does not exist that day.
        let ny = Self.newYork
        #expect(try Self.next("30 2 * * *", after: "2026-03-07T12:00:00Z", in: ny) == "2026-03-09T06:30:00Z")
        #expect(try Self.next("30 3 * * *", after: "2026-03-08T05:00:00Z", in: ny) == "2026-03-08T07:30:00Z")
        #expect(try Self.next("*/15 * * * *", after: "2026-03-08T06:45:00Z", in: ny) == "2026-03-08T07:00:00Z")
        #expect(try Self.next("0 2 8 3 *", after: "2026-03-01T00:00:00Z", in: ny) == "2027-03-08T07:00:00Z")
    }

    @Test func fallBackFiresOnce() throws {
        // 2026-11-01: New York clocks go from 02:00 EDT back to 01:00 EST; 01:00-01:59 happens twice.
        let ny = Self.newYork
        #expect(try Self.next("30 1 * * *", after: "2026-11-01T04:00:00Z", in: ny) == "2026-11-01T05:30:00Z")
        #expect(try Self.next("30 1 * * *", after: "2026-11-01T05:30:00Z", in: ny) == "2026-11-02T06:30:00Z")
        // From inside the repeated hour, the already-fired 01:45 is not fired again.
        #expect(try Self.next("45 1 * * *", after: "2026-11-01T06:10:00Z", in: ny) == "2026-11-02T06:45:00Z")
        // Hourly: 01:00 EDT, then 02:00 EST; 01:00 EST (06:00Z) is the repeat.
        #expect(try Self.next("0 * * * *", after: "2026-11-01T05:00:00Z", in: ny) == "2026-11-01T07:00:00Z")
        #expect(try Self.next("30 2 * * *", after: "2026-11-01T04:00:00Z", in: ny) == "2026-11-01T07:30:00Z")
    }

    @Test(arguments: [
        ("0 0 30 2 *", "UTC"), ("0 0 31 4,6,9,11 *", "America/New_York"), ("* * 31 2 *", "Asia/Tokyo"),
        ("0 0 30 FEB MON", "UTC"),  // either-or rule: Mondays still match, so this one fires
    ])
    func impossibleScheduleGivesNoFiringQuickly(_ text: String, _ zone: String) throws {
        let cron = try CronExpression.parse(text).get()
        let tz = try #require(TimeZone(identifier: zone))
        let after = Self.instant("2026-01-01T00:00:00Z")
        let clock = ContinuousClock()
        var result: Date?
        let elapsed = clock.measure { result = cron.nextFire(after: after, in: tz) }
        if text.hasSuffix("MON") {
            #expect(result.map { ISO8601DateFormatter().string(from: $0) } == "2026-02-02T00:00:00Z")
        } else {
            #expect(result == nil, "\(text)")
        }
        #expect(elapsed < .milliseconds(200), "took \(elapsed)")
    }

    @Test func nothingBeyondFiveYears() throws {
        // 2100 is not a leap year, so after 29 February 2096 the next is 2104: too far.
        #expect(try Self.next("0 0 29 2 *", after: "2097-03-01T00:00:00Z") == nil)
        #expect(try Self.next("0 0 29 2 *", after: "2095-03-01T00:00:00Z") == "2096-02-29T00:00:00Z")
    }

    @Test func yearlyFiringsAreFast() throws {
        let cron = try CronExpression.parse("0 0 1 1 *").get()
        var date = Self.instant("2026-01-01T00:00:00Z")
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<5 { date = cron.nextFire(after: date, in: Self.newYork) ?? date }
        }
        #expect(ISO8601DateFormatter().string(from: date) == "2030-01-01T05:00:00Z")
        #expect(elapsed < .milliseconds(200), "took \(elapsed)")
    }
}
