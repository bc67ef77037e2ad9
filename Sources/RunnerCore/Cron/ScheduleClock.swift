import FoundationEssentials

/// When a schedule fires, decided from its last firing and the time: pure, so the server's
/// loop stays thin and this is tested with a manual clock.
public enum ScheduleClock {
    public enum Decision: Equatable, Sendable {
        /// Fire now, for this fire time (the latest one that passed: missed firings while the
        /// server was down are run once, not once each).
        case fire(at: Date, missed: Int)
        /// Nothing to do before this time (nil: never again).
        case wait(until: Date?)
    }

    /// `lastFired` nil: the schedule was never seen; it starts from `now` (no firing for the
    /// past). At most `scanLimit` missed firings are counted.
    public static func decide(_ cron: CronExpression, in timeZone: TimeZone, lastFired: Date?, now: Date,
                              scanLimit: Int = 10_000) -> Decision {
        guard let last = lastFired else { return .wait(until: cron.nextFire(after: now, in: timeZone)) }
        guard let first = cron.nextFire(after: last, in: timeZone) else { return .wait(until: nil) }
        guard first <= now else { return .wait(until: first) }
        var latest = first
        var count = 1
        while count < scanLimit, let next = cron.nextFire(after: latest, in: timeZone), next <= now {
            latest = next
            count += 1
        }
        return .fire(at: latest, missed: count - 1)
    }
}
