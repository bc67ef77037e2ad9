import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerCore

@Suite struct CronParseTests {
    @Test(arguments: [
        "* * * * *", "0 3 * * *", "*/15 * * * *", "0 9-17 * * MON-FRI", "0,30 * 1,15 * *", "5/10 * * * *",
        "0 0 1 JAN *", "0 0 * * sun", "0 0 * * 7", "0 0 * * 1-7", "0 12 * DEC-DEC 5", "  0  3  *  *  *  ",
        "@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "@DAILY", "59 23 31 12 6",
    ])
    func accepts(_ text: String) {
        if case .failure(let e) = CronExpression.parse(text) { Issue.record("'\(text)': \(e.message)") }
    }

    @Test(arguments: [
        ("0 25 * * *", 2, 2, "hour value 25 is out of range 0-23"),
        ("61 * * * *", 0, 2, "minute value 61 is out of range 0-59"),
        ("* * 0 * *", 4, 1, "day of month value 0 is out of range 1-31"),
        ("* * * 13 *", 6, 2, "month value 13 is out of range 1-12"),
        ("* * * * 8", 8, 1, "day of week value 8 is out of range 0-7"),
        ("* * * *", 6, 1, "expected 5 fields, found 4"),
        ("0 * * * * *", 10, 1, "expected 5 fields, found 6"),
        ("17-5 * * * *", 0, 4, "runs backwards"),
        ("*/0 * * * *", 2, 1, "step 0"),
        ("*/x * * * *", 2, 1, "is not a number"),
        ("0 0 * JNA *", 6, 3, "'JNA' is not a valid month"),
        ("0 0 * * FUN", 8, 3, "'FUN' is not a valid day of week"),
        ("1,,2 * * * *", 1, 1, "empty item"),
        ("a * * * *", 0, 1, "'a' is not a valid minute"),
        ("@dayly", 0, 6, "unknown cron macro '@dayly'"),
        ("@daily 5", 7, 1, "stands alone"),
        ("", 0, 1, "empty cron expression"),
    ])
    func rejectsWithPosition(_ text: String, _ offset: Int, _ length: Int, _ fragment: String) throws {
        guard case .failure(let e) = CronExpression.parse(text) else { throw TestFailure("'\(text)' parsed") }
        #expect(e.message.contains(fragment), "\(e.message)")
        #expect(e.offset == offset, "offset for '\(text)'")
        #expect(e.length == length, "length for '\(text)'")
    }

    @Test func hints() {
        if case .failure(let e) = CronExpression.parse("@dayly") { #expect(e.hint == "did you mean '@daily'?") }
        if case .failure(let e) = CronExpression.parse("0 0 * JNA *") { #expect(e.hint == "did you mean 'JAN'?") }
        if case .failure(let e) = CronExpression.parse("0 0 * * * *") { #expect(e.hint?.contains("seconds") == true) }
    }
}

@Suite struct CronNextFireTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    func date(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: text)!
    }

    func next(_ cron: String, after: String, in tz: TimeZone = utc) -> String? {
        let c = try! CronExpression.parse(cron).get()
        return c.nextFire(after: date(after), in: tz).map { ISO8601DateFormatter().string(from: $0) }
    }

    @Test(arguments: [
        ("*/15 * * * *", "2026-03-01T10:07:00Z", "2026-03-01T10:15:00Z"),
        ("*/15 * * * *", "2026-03-01T10:15:00Z", "2026-03-01T10:30:00Z"),
        ("*/15 * * * *", "2026-03-01T23:59:30Z", "2026-03-02T00:00:00Z"),
        ("0 3 * * *", "2026-03-01T03:00:00Z", "2026-03-02T03:00:00Z"),
        ("0 3 * * *", "2026-03-01T02:59:59Z", "2026-03-01T03:00:00Z"),
        ("0 0 1 * *", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z"),
        ("0 0 * * MON-FRI", "2026-11-20T12:00:00Z", "2026-11-23T00:00:00Z"),
        ("0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"),
        ("0 0 13 * FRI", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z"),
        ("0 12 * DEC 5", "2026-01-01T00:00:00Z", "2026-12-04T12:00:00Z"),
        ("@hourly", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"),
        ("@yearly", "2026-03-01T10:00:00Z", "2027-01-01T00:00:00Z"),
        ("@weekly", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00Z"),
        ("30 4 * * 7", "2026-11-23T00:00:00Z", "2026-11-29T04:30:00Z"),
    ])
    func utcFirings(_ cron: String, _ after: String, _ expected: String) {
        #expect(next(cron, after: after) == expected, "\(cron) after \(after)")
    }

    @Test func timeZonesShiftTheWallClock() {
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        #expect(next("0 3 * * *", after: "2026-03-01T00:00:00Z", in: tokyo) == "2026-03-01T18:00:00Z")
    }

    @Test func springForwardSkipsTheMissingTime() {
        // 2026-03-08: New York clocks jump from 02:00 to 03:00.
        #expect(next("30 2 * * *", after: "2026-03-07T12:00:00Z", in: Self.newYork) == "2026-03-09T06:30:00Z")
        #expect(next("30 3 * * *", after: "2026-03-08T05:00:00Z", in: Self.newYork) == "2026-03-08T07:30:00Z")
    }

    @Test func fallBackFiresOnce() {
        // 2026-11-01: New York clocks go from 02:00 EDT back to 01:00 EST; 01:30 happens twice.
        let first = next("30 1 * * *", after: "2026-11-01T04:00:00Z", in: Self.newYork)
        #expect(first == "2026-11-01T05:30:00Z")
        #expect(next("30 1 * * *", after: "2026-11-01T05:30:00Z", in: Self.newYork) == "2026-11-02T06:30:00Z")
    }

    @Test func impossibleScheduleGivesNoFiring() {
        #expect(next("0 0 30 2 *", after: "2026-01-01T00:00:00Z") == nil)
    }
}
