import Foundation
import Testing
@testable import RunnerCore

@Suite struct ScheduleClockTests {
    let utc = TimeZone(identifier: "UTC")!
    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    func cron(_ text: String) throws -> CronExpression { try CronExpression.parse(text).get() }

    @Test func aNewScheduleStartsFromNowAndNeverFiresForThePast() throws {
        let decision = ScheduleClock.decide(try cron("0 3 * * *"), in: utc, lastFired: nil, now: date("2026-11-23T10:00:00Z"))
        #expect(decision == .wait(until: date("2026-11-24T03:00:00Z")))
    }

    @Test func dueFiresOnceAndWaitsOtherwise() throws {
        let daily = try cron("0 3 * * *")
        #expect(ScheduleClock.decide(daily, in: utc, lastFired: date("2026-11-23T03:00:00Z"), now: date("2026-11-23T10:00:00Z"))
                == .wait(until: date("2026-11-24T03:00:00Z")))
        #expect(ScheduleClock.decide(daily, in: utc, lastFired: date("2026-11-23T03:00:00Z"), now: date("2026-11-24T03:00:00Z"))
                == .fire(at: date("2026-11-24T03:00:00Z"), missed: 0))
    }

    @Test func missedFiringsWhileDownRunOnceForTheLatest() throws {
        let hourly = try cron("@hourly")
        // Down from 01:30 to 05:10: 02:00, 03:00, 04:00 and 05:00 passed; one firing, for 05:00.
        #expect(ScheduleClock.decide(hourly, in: utc, lastFired: date("2026-11-23T01:00:00Z"), now: date("2026-11-23T05:10:00Z"))
                == .fire(at: date("2026-11-23T05:00:00Z"), missed: 3))
    }

    @Test func timeZonesApply() throws {
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        // 03:00 in Tokyo is 18:00 UTC the day before.
        #expect(ScheduleClock.decide(try cron("0 3 * * *"), in: tokyo, lastFired: nil, now: date("2026-11-23T10:00:00Z"))
                == .wait(until: date("2026-11-23T18:00:00Z")))
    }
}
