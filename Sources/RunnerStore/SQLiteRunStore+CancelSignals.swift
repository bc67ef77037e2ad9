import FoundationEssentials
import RunnerCore

/// Cancel flags (`CancelSignals`): a request is one conditional UPDATE.
extension SQLiteRunStore {
    public func requestCancel(_ run: RunID, at: Date) throws -> Bool {
        try database.write {
            try database.run("""
                UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, ?)
                WHERE id = ? AND status NOT IN \(Self.finishedStatuses)
                """, [.date(at), .text(run.rawValue)]) == 1
        }
    }

    public func isCancelRequested(_ run: RunID) throws -> Bool {
        try database.query("SELECT cancel_requested_at IS NOT NULL FROM runs WHERE id = ?", [.text(run.rawValue)])
            .first?.bool(0) ?? false
    }
}
