import FoundationEssentials

/// Delays between attempts and deferred retry times. Pure: the random source and the
/// current time are given, so tests fix both.
public enum RetryMath {
    /// The delay before retry number `retry` (1 for the second attempt).
    public static func delay<R: RandomNumberGenerator>(beforeRetry retry: Int, backoff: RetryPolicy.Backoff,
                                                       using random: inout R) -> Duration {
        let base = cappedDelay(retry: retry, backoff: backoff)
        let ms = DurationText.milliseconds(base)
        switch backoff.jitter {
        case .none:
            return base
        case .full:
            return .milliseconds(ms == 0 ? 0 : Int64.random(in: 0...ms, using: &random))
        case .equal:
            let half = ms / 2
            return .milliseconds(half + (ms - half == 0 ? 0 : Int64.random(in: 0...(ms - half), using: &random)))
        }
    }

    /// `initial × factor^(retry-1)`, capped at `max`, without jitter.
    public static func cappedDelay(retry: Int, backoff: RetryPolicy.Backoff) -> Duration {
        let initial = Double(DurationText.milliseconds(backoff.initial))
        let cap = Double(DurationText.milliseconds(backoff.max))
        var value = initial
        for _ in 1..<max(1, retry) {
            value *= backoff.factor
            if value >= cap { break }
        }
        return .milliseconds(Int64(min(value, cap).rounded()))
    }

    /// When a deferred retry may run: the next UTC midnight, the next UTC hour, or the next
    /// firing of a cron expression (in UTC), strictly after `now`.
    public static func wakeTime(for deferral: RetryPolicy.Deferral, after now: Date) -> Date? {
        switch deferral {
        case .nextDayUTC:
            return next(multipleOf: 86_400, after: now)
        case .nextHourUTC:
            return next(multipleOf: 3_600, after: now)
        case .cron(let cron):
            return TimeZone(identifier: "UTC").flatMap { cron.nextFire(after: now, in: $0) }
        }
    }

    /// UTC days and hours are whole multiples of their length since the epoch.
    private static func next(multipleOf seconds: Double, after now: Date) -> Date {
        Date(timeIntervalSince1970: ((now.timeIntervalSince1970 / seconds).rounded(.down) + 1) * seconds)
    }
}
