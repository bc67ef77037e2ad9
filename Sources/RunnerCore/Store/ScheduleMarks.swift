import FoundationEssentials

/// When each schedule of each pipeline last fired (missed firings are run once at start).
///
/// Atomicity contract: `setScheduleLastFired` replaces the mark of (pipeline, entry), cron text
/// included, in one step (an upsert); a reader sees the old mark or the new one.
/// `compareAndSetScheduleLastFired` reads the mark and replaces it in one step, and only when it
/// is still the one the caller read: of several nodes that read the same mark and decided to
/// fire, exactly one gets true (PostgreSQL: `UPDATE ... WHERE last_fired_at = $expected`, or
/// `INSERT ... ON CONFLICT DO NOTHING` for a first mark, and the row count).
public protocol ScheduleMarks: AnyObject, Sendable {
    /// Nil when the schedule (pipeline, entry, cron text) was never recorded: a changed cron
    /// text counts as a new schedule.
    func scheduleLastFired(pipeline: String, entry: Int, cron: String) throws -> Date?
    func setScheduleLastFired(pipeline: String, entry: Int, cron: String, at: Date) throws
    /// Sets the mark to `at` if `scheduleLastFired` would still answer `expected` (nil: no mark
    /// of this cron text); returns whether it did.
    func compareAndSetScheduleLastFired(pipeline: String, entry: Int, cron: String, expected: Date?,
                                        at: Date) throws -> Bool
}
