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

    public func appendAudit(_ record: AuditRecord) throws {
        try database.write {
            try database.run("""
                INSERT INTO audit (at, action, code, run_id, pipeline, actor, params, trace_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.date(record.at), .text(record.action), .string(record.code), .string(record.runID?.rawValue),
                      .string(record.pipeline), .text(record.actor), .text(Self.encode(record.params)),
                      .string(record.traceID)])
        }
    }

    public func audit(limit: Int) throws -> [AuditRecord] {
        try database.query("""
            SELECT at, action, code, run_id, pipeline, actor, params, trace_id FROM audit ORDER BY seq DESC LIMIT ?
            """, [.int(max(1, min(limit, 10_000)))]).compactMap { row in
            guard let at = row.date(0), let action = row.string(1), let actor = row.string(5) else { return nil }
            return AuditRecord(at: at, action: action, runID: row.string(3).map(RunID.init), pipeline: row.string(4),
                               actor: actor, params: Self.decode(row.string(6) ?? "{}"), traceID: row.string(7),
                               code: row.string(2))
        }
    }
}
