import Foundation
import RunnerCore

/// Idempotency keys, tokens, the audit log, schedule marks and metrics in memory, each
/// operation under the store's lock.
extension InMemoryRunStore {
    /// An Idempotency-Key's record: in flight until its response is recorded.
    struct KeyRecord {
        var payloadHash: String
        var response: (status: Int, body: [UInt8])?
        var runID: RunID?
        var expiresAt: Date
    }

    struct ScheduleEntry: Hashable {
        var pipeline: String
        var entry: Int
    }

    public func claimIdempotencyKey(scope: String, key: String, payloadHash: String, now: Date,
                                    expiresAt: Date) throws -> IdempotencyClaim {
        try write {
            let id = IdempotencyKey(scope: scope, key: key)
            if let record = idempotency[id], record.expiresAt > now {
                guard record.payloadHash == payloadHash else { return .mismatch }
                guard let response = record.response else { return .inFlight }
                return .replay(status: response.status, body: response.body)
            }
            idempotency[id] = KeyRecord(payloadHash: payloadHash, expiresAt: expiresAt)
            return .proceed
        }
    }

    public func completeIdempotencyKey(scope: String, key: String, status: Int, body: [UInt8], runID: RunID?) throws {
        try write {
            let id = IdempotencyKey(scope: scope, key: key)
            idempotency[id]?.response = (status, body)
            idempotency[id]?.runID = runID
        }
    }

    public func releaseIdempotencyKey(scope: String, key: String) throws {
        try write {
            let id = IdempotencyKey(scope: scope, key: key)
            if idempotency[id]?.response == nil { idempotency[id] = nil }
        }
    }

    @discardableResult
    public func settleInFlightIdempotencyKeys(response: (RunRecord) -> (status: Int, body: [UInt8])) throws -> Int {
        let inFlight: [(IdempotencyKey, RunRecord?)] = read {
            idempotency.filter { $0.value.response == nil }.map { id, _ in
                (id, entries.values.first { $0.run.idempotencyKey == id }?.run)
            }
        }
        for (id, run) in inFlight {
            if let run {
                let (status, body) = response(run)
                try completeIdempotencyKey(scope: id.scope, key: id.key, status: status, body: body, runID: run.id)
            } else {
                try releaseIdempotencyKey(scope: id.scope, key: id.key)
            }
        }
        return inFlight.count
    }

    @discardableResult
    public func expireIdempotencyKeys(now: Date) throws -> Int {
        try write {
            let expired = idempotency.filter { $0.value.expiresAt <= now }.keys
            for id in expired { idempotency[id] = nil }
            return expired.count
        }
    }

    // MARK: - Tokens and audit

    public func createToken(_ token: TokenRecord) throws {
        try write {
            guard !tokenRecords.contains(where: { $0.name == token.name }) else {
                throw TokenNameTaken(name: token.name)
            }
            guard !tokenRecords.contains(where: { $0.id == token.id }) else {
                throw InMemoryStoreError("a token \(token.id) exists already")
            }
            var stored = token
            stored.revokedAt = nil
            tokenRecords.append(stored)
        }
    }

    public func tokens() throws -> [TokenRecord] {
        read { tokenRecords.sorted { $0.createdAt < $1.createdAt } }
    }

    public func token(id: String) throws -> TokenRecord? {
        read { tokenRecords.first { $0.id == id } }
    }

    @discardableResult
    public func revokeToken(name: String, at: Date) throws -> Bool {
        try write {
            let active = tokenRecords.firstIndex { $0.name == name && $0.revokedAt == nil }
            guard let i = active else { return false }
            tokenRecords[i].revokedAt = at
            return true
        }
    }

    public func appendAudit(_ record: AuditRecord) throws {
        try write { auditRecords.append(record) }
    }

    public func audit(limit: Int) throws -> [AuditRecord] {
        read { Array(auditRecords.reversed().prefix(max(1, min(limit, 10_000)))) }
    }

    // MARK: - Schedules and metrics

    public func scheduleLastFired(pipeline: String, entry: Int, cron: String) throws -> Date? {
        read {
            guard let mark = scheduleMarks[ScheduleEntry(pipeline: pipeline,
                                                         entry: entry)], mark.cron == cron else { return nil }
            return mark.at
        }
    }

    public func setScheduleLastFired(pipeline: String, entry: Int, cron: String, at: Date) throws {
        try write { scheduleMarks[ScheduleEntry(pipeline: pipeline, entry: entry)] = (cron, at) }
    }

    public func compareAndSetScheduleLastFired(pipeline: String, entry: Int, cron: String, expected: Date?,
                                               at: Date) throws -> Bool {
        try write {
            let id = ScheduleEntry(pipeline: pipeline, entry: entry)
            let current = scheduleMarks[id].flatMap { $0.cron == cron ? $0.at : nil }
            guard current == expected else { return false }
            scheduleMarks[id] = (cron, at)
            return true
        }
    }

    public func runCounts() throws -> [RunStatus: Int] {
        read { Dictionary(grouping: entries.values, by: \.run.status).mapValues(\.count) }
    }

    public func stepDurations() throws -> [Double] {
        read {
            let finished = entries.values.flatMap(\.steps).compactMap { step in
                step.startedAt.flatMap { start in step.finishedAt.map { (start: start, end: $0) } }
            }
            return finished.sorted { $0.end > $1.end }.prefix(100_000).map { $0.end.timeIntervalSince($0.start) }
        }
    }
}
