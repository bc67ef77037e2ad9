import FoundationEssentials
import RunnerCore

/// Runs as records (`RunRecordStore`): each operation is one transaction (a write's check and
/// insert under the database's one write lock; a read in one snapshot).
extension SQLiteRunStore {
    public func createRun(_ run: RunRecord, steps: [StepRecord], unlessActiveIn group: String) throws -> RunRecord? {
        try database.write {
            if let active = try database.query("""
                SELECT \(Self.runColumnsWithoutDefinition) FROM runs
                WHERE concurrency_group = ? AND status NOT IN \(Self.finishedStatuses)
                ORDER BY created_at, id LIMIT 1
                """, [.text(group)]).first.flatMap(runRecord) {
                return active
            }
            try insert(run, steps: steps)
            return nil
        }
    }

    public func createRun(_ run: RunRecord, steps: [StepRecord]) throws {
        try database.write { try insert(run, steps: steps) }
    }

    private func insert(_ run: RunRecord, steps: [StepRecord]) throws {
        let idempotency = run.idempotencyKey
        try database.run("""
            INSERT INTO runs (id, pipeline, pipeline_file, definition, status, trigger, params, parallelism,
                              concurrency_group, created_at, updated_at, owner, lease_until, refs, trigger_detail,
                              secret_params, idempotency_scope, idempotency_key, actor)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(run.id.rawValue), .text(run.pipeline), .text(run.pipelineFile), .text(""),
                  .text(run.status.rawValue), .text(run.trigger.rawValue), .text(Self.encode(run.params)),
                  .int(run.parallelism), .string(run.concurrencyGroup), .date(run.createdAt), .date(run.updatedAt),
                  .string(run.owner), .date(run.leaseUntil), .string(Self.encodeMap(run.refs)),
                  .string(Self.encodeMap(run.triggerDetail)), .string(Self.encodeNames(run.secretParams)),
                  .string(idempotency?.scope), .string(idempotency?.key), .string(run.actor)])
        try database.run("INSERT INTO definitions (run_id, text) VALUES (?, ?)",
                         [.text(run.id.rawValue), .text(run.definition)])
        try insert(steps, of: run.id)
        try event(run.id, at: run.createdAt, kind: "run", step: nil, status: run.status.rawValue, message: "created")
    }

    private func insert(_ steps: [StepRecord], of run: RunID) throws {
        // Rows in statements of several, not one statement per row (docs/DECISIONS.md, Store).
        let rowSQL = "(?, ?, ?, ?, ?, ?, ?)"
        func values(_ step: StepRecord) -> [SQLValue] {
            [.text(run.rawValue), .text(step.name.rawValue), .text(step.step), .string(step.item), .text(step.section),
             .int(step.position), .text(step.status.rawValue)]
        }
        var start = 0
        while start < steps.count {
            let count = Self.rowsPerInsert(remaining: steps.count - start)
            let rows = steps[start..<(start + count)]
            try database.run("INSERT INTO steps (run_id, name, step, item, section, position, status) VALUES "
                             + Array(repeating: rowSQL, count: count).joined(separator: ", "),
                             rows.flatMap(values))
            start += count
        }
        for step in steps {
            if step.errorMessage != nil || !step.outputs.isEmpty {
                try database.run("UPDATE steps SET error_message = ?, finished_at = ? WHERE run_id = ? AND name = ?",
                                 [.string(step.errorMessage), .date(step.finishedAt), .text(run.rawValue),
                                  .text(step.name.rawValue)])
            }
            for (key, value) in step.outputs {
                try database.run("INSERT INTO outputs VALUES (?, ?, ?, ?)",
                                 [.text(run.rawValue), .text(step.name.rawValue), .text(key), .text(value)])
            }
        }
    }

    /// Rows go in statements of 64, 16, 4 or 1 (the largest that fits what remains): a few
    /// statements for many rows, and only four sizes of statement kept prepared.
    static func rowsPerInsert(remaining: Int) -> Int {
        remaining >= 64 ? 64 : remaining >= 16 ? 16 : remaining >= 4 ? 4 : 1
    }

    // MARK: - Reading

    static let definitionColumn = "(SELECT text FROM definitions WHERE run_id = runs.id)"
    static let runColumns = """
        id, pipeline, pipeline_file, \(definitionColumn), status, trigger, params, parallelism,
        concurrency_group, created_at, started_at, finished_at, updated_at, wake_at, error_code, error_message, owner,
        lease_until, refs, trigger_detail, epoch, secret_params, actor
        """

    /// The run's columns with an empty definition in place of its text.
    static let runColumnsWithoutDefinition = runColumns.replacing(definitionColumn, with: "''")

    func runRecord(_ row: Row) -> RunRecord? {
        // The definition is in `definitions` (migration 7); a run without one reads as empty.
        let definition = row.string(3) ?? ""
        guard let id = row.string(0), let pipeline = row.string(1), let file = row.string(2),
              let status = row.string(4).flatMap(RunStatus.init(rawValue:)),
              let trigger = row.string(5).flatMap(Trigger.init(rawValue:)),
              let created = row.date(9) else { return nil }
        var record = RunRecord(id: RunID(id), pipeline: pipeline, pipelineFile: file, definition: definition,
                               trigger: trigger, params: Self.decode(row.string(6) ?? "{}"),
                               parallelism: row.int(7) ?? 1, createdAt: created)
        record.status = status
        record.concurrencyGroup = row.string(8)
        record.startedAt = row.date(10)
        record.finishedAt = row.date(11)
        record.updatedAt = row.date(12) ?? created
        record.wakeAt = row.date(13)
        record.errorCode = row.string(14)
        record.errorMessage = row.string(15)
        record.owner = row.string(16)
        record.leaseUntil = row.date(17)
        record.refs = Self.decodeMap(row.string(18))
        record.triggerDetail = Self.decodeMap(row.string(19))
        record.epoch = Int64(row.int(20) ?? 0)
        record.secretParams = Self.decodeNames(row.string(21))
        record.actor = row.string(22)
        return record
    }

    public func load(_ id: RunID) throws -> StoredRun? {
        try load(id, definition: true)
    }

    public func load(_ id: RunID, definition: Bool) throws -> StoredRun? {
        try database.read {
            let columns = definition ? Self.runColumns : Self.runColumnsWithoutDefinition
            guard let run = try database.query("SELECT \(columns) FROM runs WHERE id = ?", [.text(id.rawValue)]).first
                .flatMap(runRecord) else { return nil }
            var steps = try self.steps(of: id)
            var attempts = try self.attempts(of: id)
            // Read in key order and sorted here: SQLite's sorter copied every whole row first (a
            // third of loading a 1,000-step run). Attempts started together: by step name.
            steps.sort { $0.position < $1.position }
            attempts.sort { ($0.startedAt, $0.serial, $0.step.rawValue) < ($1.startedAt, $1.serial, $1.step.rawValue) }
            return StoredRun(run: run, steps: steps, attempts: attempts)
        }
    }

    private func steps(of id: RunID) throws -> [StepRecord] {
        var outputs: [String: [String: String]] = [:]
        for row in try database.query("SELECT step, key, value FROM outputs WHERE run_id = ?", [.text(id.rawValue)]) {
            outputs[row.string(0) ?? "", default: [:]][row.string(1) ?? ""] = row.string(2) ?? ""
        }
        var steps: [StepRecord] = []
        try database.forEachRow("""
            SELECT name, step, item, section, position, status, attempts, serial, retry_at, error_code, error_message,
                   progress, progress_message, started_at, finished_at FROM steps WHERE run_id = ?
            """, [.text(id.rawValue)]) { row in
            var step = StepRecord(name: StepName(row.string(0) ?? ""), step: row.string(1) ?? "", item: row.string(2),
                                  section: row.string(3) ?? "main", position: row.int(4) ?? 0)
            step.status = row.string(5).flatMap(StepStatus.init(rawValue:)) ?? .queued
            step.attempts = row.int(6) ?? 0
            step.serial = row.int(7) ?? 0
            step.retryAt = row.date(8)
            step.errorCode = row.string(9)
            step.errorMessage = row.string(10)
            step.progress = row.int(11)
            step.progressMessage = row.string(12)
            step.startedAt = row.date(13)
            step.finishedAt = row.date(14)
            step.outputs = outputs[step.name.rawValue] ?? [:]
            steps.append(step)
        }
        return steps
    }

    private func attempts(of id: RunID) throws -> [AttemptRecord] {
        var attempts: [AttemptRecord] = []
        try database.forEachRow("""
            SELECT step, serial, attempt, counted, started_at, finished_at, pid, exit_code, signal, timed_out,
                   error_code, message, log_path
            FROM attempts WHERE run_id = ?
            """, [.text(id.rawValue)]) { row in
            var a = AttemptRecord(step: StepName(row.string(0) ?? ""), serial: row.int(1) ?? 0,
                                  attempt: row.int(2) ?? 0, startedAt: row.date(4) ?? Date(timeIntervalSince1970: 0))
            a.counted = row.bool(3)
            a.finishedAt = row.date(5)
            a.pid = row.int(6).map(Int32.init)
            a.exitCode = row.int(7).map(Int32.init)
            a.signal = row.int(8).map(Int32.init)
            a.timedOut = row.bool(9)
            a.errorCode = row.string(10)
            a.message = row.string(11)
            a.logPath = row.string(12)
            attempts.append(a)
        }
        return attempts
    }

    public func loadForExecution(_ id: RunID, definition: Bool) throws -> StoredRun? {
        enum Found { case none, fresh(StoredRun), started }
        let found: Found = try database.read {
            let isFresh = try database.query("""
                SELECT status = 'queued'
                  AND NOT EXISTS (SELECT 1 FROM steps WHERE run_id = ?1 AND (status <> 'queued' OR serial <> 0))
                FROM runs WHERE id = ?1
                """, [.text(id.rawValue)]).first?.bool(0)
            guard let isFresh else { return .none }
            guard isFresh else { return .started }
            let columns = definition ? Self.runColumns : Self.runColumnsWithoutDefinition
            let run = try database.query("SELECT \(columns) FROM runs WHERE id = ?", [.text(id.rawValue)])
                .first.flatMap(runRecord)
            return run.map { .fresh(StoredRun(run: $0, steps: [], attempts: [])) } ?? .none
        }
        switch found {
        case .none: return nil
        case .fresh(let stored): return stored
        case .started: return try load(id)
        }
    }

    public func runs(_ query: RunQuery) throws -> [RunRecord] {
        // Without definitions: a list (and the server's look for runs nobody executes, every
        // 5 s) has no use for them, and each can be hundreds of KB.
        var sql = "SELECT \(Self.runColumnsWithoutDefinition) FROM runs WHERE 1 = 1"
        var values: [SQLValue] = []
        if let pipeline = query.pipeline {
            sql += " AND pipeline = ?"
            values.append(.text(pipeline))
        }
        if let actor = query.actor {
            sql += " AND actor = ?"
            values.append(.text(actor))
        }
        if !query.statuses.isEmpty {
            sql += " AND status IN (" + query.statuses.map { _ in "?" }.joined(separator: ", ") + ")"
            values += query.statuses.map { .text($0.rawValue) }
        }
        if let before = query.before {
            // Older than the cursor run, in the list's own order (ids order by second only).
            sql += " AND (created_at, id) < (SELECT created_at, id FROM runs WHERE id = ?)"
            values.append(.text(before.rawValue))
        }
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        values.append(.int(max(1, min(query.limit, 1000))))
        return try database.query(sql, values).compactMap(runRecord)
    }

    public func findRun(idOrPrefix text: String) throws -> RunRecord? {
        try database.read {
            let columns = Self.runColumnsWithoutDefinition
            let exact = try database.query("SELECT \(columns) FROM runs WHERE id = ?", [.text(text)])
            if let run = exact.first.flatMap(runRecord) { return run }
            // LIKE ignores ASCII case; its wildcards in the text are taken literally.
            let escaped = text.replacing("\\", with: "\\\\").replacing("%", with: "\\%").replacing("_", with: "\\_")
            let matches = try database.query("""
                SELECT \(columns) FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT 2
                """, [.text(escaped + "%")])
            return matches.count == 1 ? runRecord(matches[0]) : nil
        }
    }

    public func activeRun(inGroup group: String, before run: RunRecord) throws -> RunRecord? {
        try database.query("""
            SELECT \(Self.runColumnsWithoutDefinition) FROM runs WHERE concurrency_group = ? AND id <> ?
              AND status NOT IN \(Self.finishedStatuses)
              AND (created_at, id) < (?, ?)
            ORDER BY created_at, id LIMIT 1
            """, [.text(group), .text(run.id.rawValue), .date(run.createdAt), .text(run.id.rawValue)])
            .first.flatMap(runRecord)
    }

    public func finishedRuns(before cutoff: Date, limit: Int) throws -> [RunRecord] {
        try database.query("""
            SELECT \(Self.runColumns) FROM runs
            WHERE status IN \(Self.finishedStatuses) AND COALESCE(finished_at, updated_at) < ?
            ORDER BY finished_at LIMIT ?
            """, [.date(cutoff), .int(limit)]).compactMap(runRecord)
    }

    @discardableResult
    public func deleteFinishedRun(_ id: RunID) throws -> Bool {
        try database.write {
            try database.run("DELETE FROM runs WHERE id = ? AND status IN \(Self.finishedStatuses)",
                             [.text(id.rawValue)]) > 0
        }
    }

    public func events(of run: RunID, after id: Int64) throws -> [RunEvent] {
        try database.query("""
            SELECT id, at, kind, step, status, message FROM events WHERE run_id = ? AND id > ? ORDER BY id
            """, [.text(run.rawValue), .integer(id)]).map { row in
            RunEvent(id: Int64(row.int(0) ?? 0), at: row.date(1) ?? Date(timeIntervalSince1970: 0),
                     kind: row.string(2) ?? "", step: row.string(3), status: row.string(4), message: row.string(5))
        }
    }
}
