import FoundationEssentials
import RunnerCore

/// Idempotency keys (`IdempotencyKeys`): a claim's check and insert are one write transaction.
/// A run launched with a key records it in `runs.idempotency_scope` and `idempotency_key`
/// (migration 10), which is how a key left in flight finds its run.
extension SQLiteRunStore {
    public func claimIdempotencyKey(scope: String, key: String, payloadHash: String, now: Date, expiresAt: Date) throws -> IdempotencyClaim {
        try database.write {
            let rows = try database.query("""
                SELECT payload_hash, state, status, body, expires_at FROM idempotency WHERE scope = ? AND key = ?
                """, [.text(scope), .text(key)])
            if let row = rows.first, let expires = row.date(4), expires > now {
                guard row.string(0) == payloadHash else { return .mismatch }
                guard row.string(1) == "done", let status = row.int(2) else { return .inFlight }
                return .replay(status: status, body: Array((row.string(3) ?? "").utf8))
            }
            try database.run("DELETE FROM idempotency WHERE scope = ? AND key = ?", [.text(scope), .text(key)])
            try database.run("""
                INSERT INTO idempotency (scope, key, payload_hash, state, created_at, expires_at) VALUES (?, ?, ?, 'in_flight', ?, ?)
                """, [.text(scope), .text(key), .text(payloadHash), .date(now), .date(expiresAt)])
            return .proceed
        }
    }

    public func completeIdempotencyKey(scope: String, key: String, status: Int, body: [UInt8], runID: RunID?) throws {
        try database.write {
            try database.run("""
                UPDATE idempotency SET state = 'done', status = ?, body = ?, run_id = ? WHERE scope = ? AND key = ?
                """, [.int(status), .text(String(decoding: body, as: UTF8.self)), .string(runID?.rawValue), .text(scope), .text(key)])
        }
    }

    public func releaseIdempotencyKey(scope: String, key: String) throws {
        try database.write {
            try database.run("DELETE FROM idempotency WHERE scope = ? AND key = ? AND state = 'in_flight'", [.text(scope), .text(key)])
        }
    }

    @discardableResult
    public func settleInFlightIdempotencyKeys(response: (RunRecord) -> (status: Int, body: [UInt8])) throws -> Int {
        let rows = try database.query("SELECT scope, key FROM idempotency WHERE state = 'in_flight'")
        var settled = 0
        for row in rows {
            guard let scope = row.string(0), let key = row.string(1) else { continue }
            let run = try database.query("""
                SELECT \(Self.runColumns) FROM runs WHERE idempotency_scope = ? AND idempotency_key = ? LIMIT 1
                """, [.text(scope), .text(key)]).first.flatMap(runRecord)
            if let run {
                let (status, body) = response(run)
                try completeIdempotencyKey(scope: scope, key: key, status: status, body: body, runID: run.id)
            } else {
                try releaseIdempotencyKey(scope: scope, key: key)
            }
            settled += 1
        }
        return settled
    }

    @discardableResult
    public func expireIdempotencyKeys(now: Date) throws -> Int {
        try database.write { try database.run("DELETE FROM idempotency WHERE expires_at <= ?", [.date(now)]) }
    }
}
