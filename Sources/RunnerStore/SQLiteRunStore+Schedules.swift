import FoundationEssentials
import RunnerCore

/// Schedules: when each one last fired (`ScheduleMarks`).
extension SQLiteRunStore {
    public func scheduleLastFired(pipeline: String, entry: Int, cron: String) throws -> Date? {
        try database.query("SELECT last_fired_at FROM schedule_state WHERE pipeline = ? AND entry = ? AND cron = ?",
                           [.text(pipeline), .int(entry), .text(cron)]).first?.date(0)
    }

    public func setScheduleLastFired(pipeline: String, entry: Int, cron: String, at: Date) throws {
        try database.write {
            try database.run("""
                INSERT INTO schedule_state (pipeline, entry, cron, last_fired_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (pipeline, entry) DO UPDATE SET cron = excluded.cron, last_fired_at = excluded.last_fired_at
                """, [.text(pipeline), .int(entry), .text(cron), .date(at)])
        }
    }
}
