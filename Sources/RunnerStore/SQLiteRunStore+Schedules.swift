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

    /// One statement, so one step: a mark read back from the store compares equal (the same
    /// REAL), and a mark of another cron text is no mark of this one.
    public func compareAndSetScheduleLastFired(pipeline: String, entry: Int, cron: String, expected: Date?,
                                               at: Date) throws -> Bool {
        try database.write {
            let changed: Int
            if let expected {
                changed = try database.run("""
                    UPDATE schedule_state SET last_fired_at = ?
                    WHERE pipeline = ? AND entry = ? AND cron = ? AND last_fired_at = ?
                    """, [.date(at), .text(pipeline), .int(entry), .text(cron), .date(expected)])
            } else {
                changed = try database.run("""
                    INSERT INTO schedule_state (pipeline, entry, cron, last_fired_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (pipeline, entry) DO UPDATE
                    SET cron = excluded.cron, last_fired_at = excluded.last_fired_at
                    WHERE schedule_state.cron <> excluded.cron
                    """, [.text(pipeline), .int(entry), .text(cron), .date(at)])
            }
            return changed == 1
        }
    }
}
