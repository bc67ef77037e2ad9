import FoundationEssentials
import RunnerCore

/// Idempotency keys: a key is scoped (caller + route), bound to its payload's hash, and keeps
/// the first response until it expires.
extension SQLiteRunStore {
    public enum IdempotencyClaim: Equatable, Sendable {
        /// No live record: this request goes ahead (now recorded as in flight).
        case proceed
        /// The first request with this key finished: its response.
        case replay(status: Int, body: [UInt8])
        /// The first request with this key is still being processed.
        case inFlight
        /// The key was used with another payload.
        case mismatch
    }

    /// Checks and claims a key in one transaction.
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

    /// Records the response of a claimed key (replayed from now on).
    public func completeIdempotencyKey(scope: String, key: String, status: Int, body: [UInt8], runID: RunID?) throws {
        try database.write {
            try database.run("""
                UPDATE idempotency SET state = 'done', status = ?, body = ?, run_id = ? WHERE scope = ? AND key = ?
                """, [.int(status), .text(String(decoding: body, as: UTF8.self)), .string(runID?.rawValue), .text(scope), .text(key)])
        }
    }

    /// Lets a claimed key go (the request failed on the server's side: the client may retry).
    public func releaseIdempotencyKey(scope: String, key: String) throws {
        try database.write {
            try database.run("DELETE FROM idempotency WHERE scope = ? AND key = ? AND state = 'in_flight'", [.text(scope), .text(key)])
        }
    }

    /// Keys left in flight by a server that died. A key whose run was created (the run records
    /// its key) gets that run's acceptance as its response; the others are let go, so a retry
    /// goes ahead. Returns how many were settled.
    @discardableResult
    public func settleInFlightIdempotencyKeys(response: (RunRecord) -> (status: Int, body: [UInt8])) throws -> Int {
        let rows = try database.query("SELECT scope, key FROM idempotency WHERE state = 'in_flight'")
        var settled = 0
        for row in rows {
            guard let scope = row.string(0), let key = row.string(1) else { continue }
            let runs = try database.query("""
                SELECT \(Self.runColumns) FROM runs
                WHERE json_extract(trigger_detail, '$.idempotency_key') = ? AND json_extract(trigger_detail, '$.idempotency_scope') = ?
                LIMIT 1
                """, [.text(key), .text(scope)]).compactMap(runRecord)
            if let run = runs.first {
                let (status, body) = response(run)
                try completeIdempotencyKey(scope: scope, key: key, status: status, body: body, runID: run.id)
            } else {
                try releaseIdempotencyKey(scope: scope, key: key)
            }
            settled += 1
        }
        return settled
    }

    /// Drops expired keys; returns how many.
    @discardableResult
    public func expireIdempotencyKeys(now: Date) throws -> Int {
        try database.write { try database.run("DELETE FROM idempotency WHERE expires_at <= ?", [.date(now)]) }
    }
}
