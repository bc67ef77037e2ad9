import FoundationEssentials
import RunnerCore

/// Aggregates for metrics (`RunMetrics`).
extension SQLiteRunStore {
    public func runCounts() throws -> [RunStatus: Int] {
        var counts: [RunStatus: Int] = [:]
        for row in try database.query("SELECT status, count(*) FROM runs GROUP BY status") {
            if let status = row.string(0).flatMap(RunStatus.init(rawValue:)) { counts[status] = row.int(1) ?? 0 }
        }
        return counts
    }

    public func stepDurations() throws -> [Double] {
        try database.query("""
            SELECT finished_at - started_at FROM steps WHERE started_at IS NOT NULL AND finished_at IS NOT NULL
            ORDER BY finished_at DESC LIMIT 100000
            """).compactMap { $0.date(0)?.timeIntervalSince1970 }
    }
}
