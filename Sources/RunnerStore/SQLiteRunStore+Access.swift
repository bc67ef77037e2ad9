import FoundationEssentials
import RunnerCore

/// Tokens (`AccessTokenStore`) and the audit log (`AuditLog`), in the same database as the runs.
extension SQLiteRunStore {
    public func createToken(_ token: TokenRecord) throws {
        try database.write {
            guard try database.query("SELECT 1 FROM tokens WHERE name = ?", [.text(token.name)]).isEmpty else {
                throw TokenNameTaken(name: token.name)
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

    public func audit(limit: Int) throws -> [AuditRecord] {
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
