import FoundationEssentials

/// When each schedule of each pipeline last fired (missed firings are run once at start).
///
/// Atomicity contract: `setScheduleLastFired` replaces the mark of (pipeline, entry), cron text
/// included, in one step (an upsert); a reader sees the old mark or the new one.
public protocol ScheduleMarks: AnyObject, Sendable {
    /// Nil when the schedule (pipeline, entry, cron text) was never recorded: a changed cron
    /// text counts as a new schedule.
    func scheduleLastFired(pipeline: String, entry: Int, cron: String) throws -> Date?
    func setScheduleLastFired(pipeline: String, entry: Int, cron: String, at: Date) throws
}
