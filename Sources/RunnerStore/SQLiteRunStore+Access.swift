import FoundationEssentials
import RunnerCore

/// Tokens and the audit log, in the same database as the runs.
extension SQLiteRunStore {
    public enum AccessError: Error, CustomStringConvertible {
        case nameTaken(String)
        public var description: String {
            switch self {
            case .nameTaken(let name): "a token named '\(name)' exists already"
            }
        }
    }

    public func createToken(_ token: TokenRecord) throws {
        try database.write {
            guard try database.query("SELECT 1 FROM tokens WHERE name = ?", [.text(token.name)]).isEmpty else {
                throw AccessError.nameTaken(token.name)
            }
            try database.run("INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                             [.text(token.id), .text(token.name), .text(token.role.rawValue), .text(token.hash), .date(token.createdAt)])
        }
    }

    static let tokenColumns = "id, name, role, hash, created_at, revoked_at"

    func tokenRecord(_ row: Row) -> TokenRecord? {
        guard let id = row.string(0), let name = row.string(1), let role = row.string(2).flatMap(Role.init(rawValue:)),
              let hash = row.string(3), let created = row.date(4) else { return nil }
        return TokenRecord(id: id, name: name, role: role, hash: hash, createdAt: created, revokedAt: row.date(5))
    }

    public func tokens() throws -> [TokenRecord] {
        try database.query("SELECT \(Self.tokenColumns) FROM tokens ORDER BY created_at").compactMap(tokenRecord)
    }

    /// The token with this public id (revoked ones included: the caller says why it fails).
    public func token(id: String) throws -> TokenRecord? {
        try database.query("SELECT \(Self.tokenColumns) FROM tokens WHERE id = ?", [.text(id)]).first.flatMap(tokenRecord)
    }

    @discardableResult
    public func revokeToken(name: String, at: Date) throws -> Bool {
        try database.write {
            try database.run("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", [.date(at), .text(name)]) > 0
        }
    }

    /// A refusal's code is kept in the `action` column after a space (`launch_rejected
    /// PUBLISH_ALREADY_ACTIVE`): actions and codes hold no space, and the audit table needs no
    /// migration for it (see DECISIONS, "Inputs, paths and audit").
    public func appendAudit(_ record: AuditRecord) throws {
        let action = record.code.map { record.action + " " + $0 } ?? record.action
        try database.write {
            try database.run("INSERT INTO audit (at, action, run_id, pipeline, actor, params, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [.date(record.at), .text(action), .string(record.runID?.rawValue), .string(record.pipeline),
                              .text(record.actor), .text(Self.encode(record.params)), .string(record.traceID)])
        }
    }

    /// Newest first.
    public func audit(limit: Int = 100) throws -> [AuditRecord] {
        try database.query("SELECT at, action, run_id, pipeline, actor, params, trace_id FROM audit ORDER BY seq DESC LIMIT ?",
                           [.int(max(1, min(limit, 10_000)))]).compactMap { row in
            guard let at = row.date(0), let stored = row.string(1), let actor = row.string(4) else { return nil }
            let parts = stored.split(separator: " ", maxSplits: 1)
            return AuditRecord(at: at, action: parts.first.map(String.init) ?? stored, runID: row.string(2).map(RunID.init),
                               pipeline: row.string(3), actor: actor, params: Self.decode(row.string(5) ?? "{}"), traceID: row.string(6),
                               code: parts.count > 1 ? String(parts[1]) : nil)
        }
    }
}

/// Aggregates for metrics.
extension SQLiteRunStore {
    public func runCounts() throws -> [RunStatus: Int] {
        var counts: [RunStatus: Int] = [:]
        for row in try database.query("SELECT status, count(*) FROM runs GROUP BY status") {
            if let status = row.string(0).flatMap(RunStatus.init(rawValue:)) { counts[status] = row.int(1) ?? 0 }
        }
        return counts
    }

    /// Seconds each finished step took (newest 100,000).
    public func stepDurations() throws -> [Double] {
        try database.query("""
            SELECT finished_at - started_at FROM steps WHERE started_at IS NOT NULL AND finished_at IS NOT NULL
            ORDER BY finished_at DESC LIMIT 100000
            """).compactMap { $0.date(0)?.timeIntervalSince1970 }
    }
}

/// Schedules: when each one last fired.
extension SQLiteRunStore {
    /// Nil when the schedule (pipeline, entry, cron text) was never recorded: a changed cron
    /// text counts as a new schedule.
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
