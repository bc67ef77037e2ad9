#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import FoundationEssentials
import RunnerCore

/// The run store on SQLite: `.runner/state.db` (or `$RUNNER_HOME/state.db`).
public final class SQLiteRunStore: RunStore, @unchecked Sendable {
    public let database: Database
    public var health: StoreHealth { database.health }

    public struct StoreError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(path: String) throws {
        database = try Self.openMigrated(path)
        try database.settle()
        // Private to its owner, whoever made it (SQLite makes its files 0644 less the umask;
        // its -wal and -shm take the database's mode when they are made).
        for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
    }

    /// The database at `path`, made from the schema image when there is none, migrated.
    private static func openMigrated(_ path: String) throws -> Database {
        let fromImage = !FileManager.default.fileExists(atPath: path) && SchemaImage.create(at: path)
        do {
            let database = try Database(path: path, isNew: fromImage ? true : nil)
            try migrate(database, fromImage: fromImage)
            return database
        } catch let error as Database.Error where error.code == SQLITE_NOTADB && !fromImage && SchemaImage.isZeros(path) {
            // Zeros where a new database was being made when the power went: nothing was ever
            // stored there, and it is made again.
            for file in [path, path + "-wal", path + "-shm"] { try? FileManager.default.removeItem(atPath: file) }
            return try openMigrated(path)
        }
    }

    /// The schema version this build knows.
    public static var currentVersion: Int { Migrations.all.last?.version ?? 0 }

    static func migrate(_ database: Database, fromImage: Bool = false) throws {
        // Already at this version (every start but the first): nothing to write, so a command
        // that only reads opens the store while another process holds its write lock.
        if !fromImage, let applied = try? database.query("SELECT MAX(version) FROM schema_migrations").first?.int(0),
           applied == currentVersion {
            return
        }
        try database.write {
            func recordImage() throws {
                for migration in Migrations.all {
                    try database.run("INSERT OR IGNORE INTO schema_migrations VALUES (?, ?)", [.integer(Int64(migration.version)), .date(Date())])
                }
            }
            // The image holds the schema `fresh` makes; its migrations are recorded now.
            if fromImage { return try recordImage() }
            try database.run(Migrations.bookkeeping)
            let applied = try database.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").first?.int(0) ?? 0
            // Tables but no migration recorded: only an image another process has just linked
            // into place and not yet recorded (migrations record themselves with their DDL).
            let tables = try database.query("SELECT count(*) FROM sqlite_master WHERE name = 'runs'").first?.int(0) ?? 0
            if applied == 0 && tables > 0 { return try recordImage() }
            if applied > Self.currentVersion {
                throw StoreError(description: "the state database is at schema version \(applied), newer than this runner (\(Self.currentVersion)); use a newer runner")
            }
            // A new database gets the schema the migrations leave, made at once.
            let objects = try database.query("SELECT count(*) FROM sqlite_master WHERE name <> 'schema_migrations'").first?.int(0) ?? 0
            let isEmpty = applied == 0 && objects == 0
            if isEmpty { try database.execute(Migrations.fresh) }
            for migration in Migrations.all where migration.version > applied {
                if !isEmpty { try database.execute(migration.sql) }
                try database.run("INSERT INTO schema_migrations VALUES (?, ?)", [.integer(Int64(migration.version)), .date(Date())])
            }
        }
    }

    public var schemaVersion: Int {
        (try? database.query("SELECT MAX(version) FROM schema_migrations").first?.int(0)) ?? 0
    }

    // MARK: - Writing

    public func createRun(_ run: RunRecord, steps: [StepRecord], unlessActiveIn group: String) throws -> RunRecord? {
        try database.write {
            if let active = try database.query("""
                SELECT \(Self.runColumnsWithoutDefinition) FROM runs WHERE concurrency_group = ?
                  AND status NOT IN ('succeeded', 'failed', 'partial', 'cancelled', 'rolled_back', 'skipped')
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
        try database.run("""
            INSERT INTO runs (id, pipeline, pipeline_file, definition, status, trigger, params, parallelism, concurrency_group,
                              created_at, updated_at, owner, lease_until, refs, trigger_detail, secret_params)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(run.id.rawValue), .text(run.pipeline), .text(run.pipelineFile), .text(""),
                  .text(run.status.rawValue), .text(run.trigger.rawValue), .text(Self.encode(run.params)),
                  .int(run.parallelism), .string(run.concurrencyGroup), .date(run.createdAt), .date(run.updatedAt),
                  .string(run.owner), .date(run.leaseUntil), .string(Self.encodeMap(run.refs)),
                  .string(Self.encodeMap(run.triggerDetail)), .string(Self.encodeNames(run.secretParams))])
        try database.run("INSERT INTO definitions (run_id, text) VALUES (?, ?)", [.text(run.id.rawValue), .text(run.definition)])
        // Rows in statements of several (one statement per row was 5.5 ms of creating a
        // 1,000-step run).
        let rowSQL = "(?, ?, ?, ?, ?, ?, ?)"
        func values(_ step: StepRecord) -> [SQLValue] {
            [.text(run.id.rawValue), .text(step.name.rawValue), .text(step.step), .string(step.item), .text(step.section),
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
                                 [.string(step.errorMessage), .date(step.finishedAt), .text(run.id.rawValue), .text(step.name.rawValue)])
            }
            for (key, value) in step.outputs {
                try database.run("INSERT INTO outputs VALUES (?, ?, ?, ?)", [.text(run.id.rawValue), .text(step.name.rawValue), .text(key), .text(value)])
            }
        }
        try event(run.id, at: run.createdAt, kind: "run", step: nil, status: run.status.rawValue, message: "created")
    }

    /// Rows go in statements of 64, 16, 4 or 1 (the largest that fits what remains): a few
    /// statements for many rows, and only four sizes of statement kept prepared.
    static func rowsPerInsert(remaining: Int) -> Int {
        remaining >= 64 ? 64 : remaining >= 16 ? 16 : remaining >= 4 ? 4 : 1
    }

    public func apply(_ changes: [StoreChange], to run: RunID) throws {
        guard !changes.isEmpty else { return }
        try database.write { try write(changes, to: run) }
    }

    /// The writer's path: its BEGIN waits 100 ms at most for a lock held elsewhere (the
    /// writer tries again with its own backoff, without holding the connection meanwhile).
    public func apply(_ changes: [StoreChange], under lease: Lease, leaseUntil: Date?) throws {
        try database.write(waitingAtMost: 100) {
            try checkAndExtend(lease, until: leaseUntil)
            try write(changes, to: lease.run)
        }
    }

    private func write(_ changes: [StoreChange], to run: RunID) throws {
        guard !changes.isEmpty else { return }
        let writes = Self.coalesce(changes)
        do {
            var events: [EventRow] = []
            for write in writes {
                switch write {
                case .change(let change): try apply(change, run.rawValue, events: &events)
                case .finishedAttempt(let attempt): try insertFinished(attempt, run.rawValue)
                case .startedAndEnded(let first, let second): try applyPair(first, second, run.rawValue, events: &events)
                case .event(let change):
                    events.append(EventRow(at: change.at, kind: "step", step: change.name.rawValue, status: change.status.rawValue,
                                           message: change.message))
                }
            }
            try insert(events, of: run)
        }
    }

    /// What one transaction writes: the changes, except that an attempt started and ended in
    /// the same batch is one finished row, and a step set running and then ended is one update
    /// (with both events). The stored result is the same as applying the changes one by one;
    /// it takes half the statements for a batch of quick steps (most of the store's time).
    enum Write {
        case change(StoreChange)
        case finishedAttempt(AttemptRecord)
        case startedAndEnded(StepStatusChange, StepStatusChange)
        /// The event of a change stored later as part of a pair (events keep their order).
        case event(StepStatusChange)
    }

    struct StepStatusChange {
        var name: StepName
        var status: StepStatus
        var attempts: Int
        var serial: Int
        var retryAt: Date?
        var errorCode: String?
        var message: String?
        var at: Date
    }

    static func coalesce(_ changes: [StoreChange]) -> [Write] {
        var writes: [Write?] = changes.map { .change($0) }
        // Attempts: (step, serial) -> index of its start in `writes`.
        var started: [String: Int] = [:]
        // Steps: name -> index of a `running` change not yet followed by a progress update.
        var running: [StepName: Int] = [:]
        for (i, change) in changes.enumerated() {
            switch change {
            case .attemptStarted(let a):
                started["\(a.serial) \(a.step.rawValue)"] = i
            case .attemptProcess(let name, let serial, let pid):
                if let j = started["\(serial) \(name.rawValue)"], case .change(.attemptStarted(var a))? = writes[j] {
                    a.pid = pid
                    writes[j] = .change(.attemptStarted(a))
                    writes[i] = nil
                }
            case .attemptFinished(let name, let serial, let end, let code, let message, let counted, let at):
                if let j = started.removeValue(forKey: "\(serial) \(name.rawValue)"), case .change(.attemptStarted(var a))? = writes[j] {
                    a.finishedAt = at
                    a.exitCode = end.exitCode
                    a.signal = end.signal
                    a.timedOut = end.reason == .timedOut
                    a.errorCode = code
                    a.message = message
                    a.counted = counted
                    writes[j] = nil
                    writes[i] = .finishedAttempt(a)
                }
            case .stepStatus(let name, let status, let attempts, let serial, let retryAt, let code, let message, let at):
                let this = StepStatusChange(name: name, status: status, attempts: attempts, serial: serial, retryAt: retryAt,
                                            errorCode: code, message: message, at: at)
                if let j = running.removeValue(forKey: name), case .change(.stepStatus(let n, let s, let a, let sr, let r, let c, let m, let t))? = writes[j],
                   status != .running, StepStatus.running.canTransition(to: status) {
                    let first = StepStatusChange(name: n, status: s, attempts: a, serial: sr, retryAt: r, errorCode: c, message: m, at: t)
                    writes[j] = .event(first)
                    writes[i] = .startedAndEnded(first, this)
                } else if status == .running {
                    running[name] = i
                }
            case .progress(let name, _, _):
                // A progress update needs the step stored as running first.
                running[name] = nil
            default:
                break
            }
        }
        return writes.compactMap { $0 }
    }

    private func insertFinished(_ a: AttemptRecord, _ id: String) throws {
        try database.run("""
            INSERT INTO attempts (run_id, step, serial, attempt, counted, started_at, log_path, pid, finished_at, exit_code, signal,
                                  timed_out, error_code, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(a.step.rawValue), .int(a.serial), .int(a.attempt), .bool(a.counted), .date(a.startedAt),
                  .string(a.logPath), a.pid.map { .integer(Int64($0)) } ?? .null, .date(a.finishedAt),
                  a.exitCode.map { .integer(Int64($0)) } ?? .null, a.signal.map { .integer(Int64($0)) } ?? .null,
                  .bool(a.timedOut), .string(a.errorCode), .string(a.message)])
    }

    /// `first` (running) then `second`, as one update: the transition is checked against
    /// `first`'s allowed predecessors, and `second` is one running may move to (checked when
    /// the two were paired).
    private func applyPair(_ first: StepStatusChange, _ second: StepStatusChange, _ id: String, events: inout [EventRow]) throws {
        let status = second.status
        let changed = try database.run("""
            UPDATE steps SET status = ?1, attempts = ?2, serial = ?3, retry_at = ?4, error_code = ?5,
              error_message = CASE WHEN ?1 = 'succeeded' THEN NULL ELSE COALESCE(?6, ?7, error_message) END,
              started_at = COALESCE(started_at, ?8),
              finished_at = CASE WHEN ?9 THEN ?10 ELSE finished_at END,
              progress = CASE WHEN ?1 = 'succeeded' THEN 100 ELSE progress END
            WHERE run_id = ?11 AND name = ?12 AND instr(?13, '|' || status || '|') > 0
            """, [.text(status.rawValue), .int(second.attempts), .int(second.serial), .date(second.retryAt),
                  status == .succeeded || status == .running ? .null : .string(second.errorCode),
                  .string(second.message), .string(first.message), .date(first.at), .bool(status.isTerminal), .date(second.at),
                  .text(id), .text(second.name.rawValue), .text(Self.allowedPredecessors[.running]!)])
        if changed == 0 {
            let current = try database.query("SELECT status FROM steps WHERE run_id = ? AND name = ?", [.text(id), .text(first.name.rawValue)])
                .first?.string(0)
            guard let current else { throw StoreError(description: "no step \(first.name) in run \(id)") }
            throw TransitionError(subject: "step \(first.name) of run \(id)", from: current, to: StepStatus.running.rawValue)
        }
        events.append(EventRow(at: second.at, kind: "step", step: second.name.rawValue, status: status.rawValue, message: second.message))
    }

    private func apply(_ change: StoreChange, _ id: String, events: inout [EventRow]) throws {
        switch change {
        case .runStatus(let status, let code, let message, let wake, let at):
            let current = try database.query("SELECT status FROM runs WHERE id = ?", [.text(id)]).first?.string(0)
            guard let current, let from = RunStatus(rawValue: current) else { throw StoreError(description: "no run \(id)") }
            guard from == status || from.canTransition(to: status) else {
                throw TransitionError(subject: "run \(id)", from: from.rawValue, to: status.rawValue)
            }
            try database.run("""
                UPDATE runs SET status = ?, error_code = COALESCE(?, error_code), error_message = COALESCE(?, error_message),
                  wake_at = ?, updated_at = ?,
                  started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END,
                  finished_at = CASE WHEN ? THEN ? ELSE finished_at END
                WHERE id = ?
                """, [.text(status.rawValue), .string(code), .string(message), .date(wake), .date(at),
                      .text(status.rawValue), .date(at), .bool(status.isTerminal), .date(at), .text(id)])
            events.append(EventRow(at: at, kind: "run", step: nil, status: status.rawValue, message: message))
        case .stepStatus(let name, let status, let attempts, let serial, let retryAt, let code, let message, let at):
            // One statement: the transition is checked by the WHERE clause (only the states the
            // state machine allows to reach `status`); a refused change is explained below.
            let changed = try database.run("""
                UPDATE steps SET status = ?, attempts = ?, serial = ?, retry_at = ?,
                  error_code = CASE WHEN ? IN ('succeeded', 'running') THEN NULL ELSE COALESCE(?, error_code) END,
                  error_message = CASE WHEN ? = 'succeeded' THEN NULL ELSE COALESCE(?, error_message) END,
                  started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END,
                  finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
                  progress = CASE WHEN ? = 'succeeded' THEN 100 ELSE progress END
                WHERE run_id = ? AND name = ? AND instr(?, '|' || status || '|') > 0
                """, [.text(status.rawValue), .int(attempts), .int(serial), .date(retryAt), .text(status.rawValue), .string(code),
                      .text(status.rawValue), .string(message), .text(status.rawValue), .date(at), .bool(status.isTerminal), .date(at),
                      .text(status.rawValue), .text(id), .text(name.rawValue), .text(Self.allowedPredecessors[status]!)])
            if changed == 0 {
                let current = try database.query("SELECT status FROM steps WHERE run_id = ? AND name = ?", [.text(id), .text(name.rawValue)])
                    .first?.string(0)
                guard let current else { throw StoreError(description: "no step \(name) in run \(id)") }
                throw TransitionError(subject: "step \(name) of run \(id)", from: current, to: status.rawValue)
            }
            events.append(EventRow(at: at, kind: "step", step: name.rawValue, status: status.rawValue, message: message))
        case .attemptStarted(let a):
            try database.run("""
                INSERT INTO attempts (run_id, step, serial, attempt, counted, started_at, log_path, pid) VALUES (?, ?, ?, ?, 1, ?, ?, ?)
                """, [.text(id), .text(a.step.rawValue), .int(a.serial), .int(a.attempt), .date(a.startedAt), .string(a.logPath),
                      a.pid.map { .integer(Int64($0)) } ?? .null])
        case .lostAttempt(let a):
            try database.run("""
                INSERT OR IGNORE INTO attempts (run_id, step, serial, attempt, counted, started_at, finished_at, error_code, message, log_path)
                VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
                """, [.text(id), .text(a.step.rawValue), .int(a.serial), .int(a.attempt), .date(a.startedAt), .date(a.finishedAt),
                      .string(a.errorCode), .string(a.message), .string(a.logPath)])
            try database.run("UPDATE steps SET serial = MAX(serial, ?) WHERE run_id = ? AND name = ?",
                             [.int(a.serial), .text(id), .text(a.step.rawValue)])
        case .attemptProcess(let name, let serial, let pid):
            try database.run("UPDATE attempts SET pid = ? WHERE run_id = ? AND step = ? AND serial = ?",
                             [.integer(Int64(pid)), .text(id), .text(name.rawValue), .int(serial)])
        case .attemptFinished(let name, let serial, let end, let code, let message, let counted, let at):
            try database.run("""
                UPDATE attempts SET finished_at = ?, exit_code = ?, signal = ?, timed_out = ?, error_code = ?, message = ?, counted = ?
                WHERE run_id = ? AND step = ? AND serial = ? AND finished_at IS NULL
                """, [.date(at), end.exitCode.map { .integer(Int64($0)) } ?? .null, end.signal.map { .integer(Int64($0)) } ?? .null,
                      .bool(end.reason == .timedOut), .string(code), .string(message), .bool(counted),
                      .text(id), .text(name.rawValue), .int(serial)])
        case .outputs(let name, let outputs):
            for (key, value) in outputs {
                try database.run("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)", [.text(id), .text(name.rawValue), .text(key), .text(value)])
            }
        case .progress(let name, let percent, let message):
            try database.run("UPDATE steps SET progress = ?, progress_message = ? WHERE run_id = ? AND name = ? AND status = 'running'",
                             [.int(percent), .string(message), .text(id), .text(name.rawValue)])
        }
    }

    /// An event to be stored with the transaction that records it.
    struct EventRow {
        var at: Date
        var kind: String
        var step: String?
        var status: String?
        var message: String?
    }

    /// A transaction's events, numbered on from the run's last, several rows a statement (a
    /// statement per event was a fifth of the store's time).
    private func insert(_ events: [EventRow], of run: RunID) throws {
        guard !events.isEmpty else { return }
        var next = Int64(try database.query("SELECT COALESCE(MAX(id), 0) FROM events WHERE run_id = ?", [.text(run.rawValue)])
            .first?.int(0) ?? 0)
        var start = 0
        while start < events.count {
            let count = Self.rowsPerInsert(remaining: events.count - start)
            var values: [SQLValue] = []
            values.reserveCapacity(count * 7)
            for row in events[start..<(start + count)] {
                next += 1
                values += [.text(run.rawValue), .integer(next), .date(row.at), .text(row.kind), .string(row.step), .string(row.status),
                           .string(row.message)]
            }
            try database.run("INSERT INTO events (run_id, id, at, kind, step, status, message) VALUES "
                             + Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: count).joined(separator: ", "), values)
            start += count
        }
    }

    /// The run's next event number from a subquery in VALUES (an INSERT ... SELECT from the
    /// table it inserts into made SQLite copy the SELECT's row into a temporary table first).
    private func event(_ run: RunID, at: Date, kind: String, step: String?, status: String?, message: String?) throws {
        try database.run("""
            INSERT INTO events (run_id, id, at, kind, step, status, message)
              VALUES (?1, (SELECT COALESCE(MAX(id), 0) + 1 FROM events WHERE run_id = ?1), ?2, ?3, ?4, ?5, ?6)
            """, [.text(run.rawValue), .date(at), .text(kind), .string(step), .string(status), .string(message)])
    }

    // MARK: - Leases and cancel

    public func claimUnstarted(_ run: RunID, owner: String, until: Date) throws -> Lease? {
        try database.write {
            let claimed = try database.run("""
                UPDATE runs SET owner = ?, lease_until = ?, epoch = epoch + 1 WHERE id = ? AND owner IS NULL AND status = 'queued'
                """, [.text(owner), .date(until), .text(run.rawValue)]) == 1
            return claimed ? try lease(of: run, owner: owner) : nil
        }
    }

    public func claim(_ run: RunID, owner: String, until: Date, now: Date, isOwnerAlive: (String) -> Bool) throws -> Lease? {
        try database.write {
            guard let row = try database.query("SELECT owner, lease_until, status FROM runs WHERE id = ?", [.text(run.rawValue)]).first else {
                return nil
            }
            if let status = row.string(2).flatMap(RunStatus.init(rawValue:)), status.isTerminal { return nil }
            if let current = row.string(0), current != owner, let lease = row.date(1), lease > now, isOwnerAlive(current) {
                return nil
            }
            try database.run("UPDATE runs SET owner = ?, lease_until = ?, epoch = epoch + 1 WHERE id = ?",
                             [.text(owner), .date(until), .text(run.rawValue)])
            return try lease(of: run, owner: owner)
        }
    }

    private func lease(of run: RunID, owner: String) throws -> Lease? {
        try database.query("SELECT epoch FROM runs WHERE id = ?", [.text(run.rawValue)]).first?.int(0)
            .map { Lease(run: run, owner: owner, epoch: Int64($0)) }
    }

    /// First statement of every fenced transaction: the lease is still the run's, and is
    /// extended when `until` is given (a check alone writes nothing: the run's row is not
    /// rewritten at every commit). Throws `LeaseLost` (the transaction is rolled back) when
    /// the lease is not the run's.
    private func checkAndExtend(_ lease: Lease, until: Date?) throws {
        let values: [SQLValue] = [.text(lease.run.rawValue), .text(lease.owner), .integer(lease.epoch)]
        let held = if let until {
            try database.run("UPDATE runs SET lease_until = ? WHERE id = ? AND owner = ? AND epoch = ?", [.date(until)] + values) == 1
        } else {
            try database.query("SELECT 1 FROM runs WHERE id = ? AND owner = ? AND epoch = ?", values).count == 1
        }
        guard held else {
            let holder = try database.query("SELECT owner FROM runs WHERE id = ?", [.text(lease.run.rawValue)]).first?.string(0)
            throw LeaseLost(lease: lease, holder: holder)
        }
    }

    public func releaseLease(_ lease: Lease) throws {
        try database.write {
            _ = try database.run("UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ? AND epoch = ?",
                                 [.text(lease.run.rawValue), .text(lease.owner), .integer(lease.epoch)])
        }
    }

    public func requestCancel(_ run: RunID, at: Date) throws -> Bool {
        try database.write {
            try database.run("""
                UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, ?)
                WHERE id = ? AND status NOT IN ('succeeded', 'failed', 'partial', 'cancelled', 'rolled_back', 'skipped')
                """, [.date(at), .text(run.rawValue)]) == 1
        }
    }

    public func isCancelRequested(_ run: RunID) throws -> Bool {
        try database.query("SELECT cancel_requested_at IS NOT NULL FROM runs WHERE id = ?", [.text(run.rawValue)]).first?.bool(0) ?? false
    }

    // MARK: - Reading

    static let definitionColumn = "(SELECT text FROM definitions WHERE run_id = runs.id)"
    static let runColumns = """
        id, pipeline, pipeline_file, \(definitionColumn), status, trigger, params, parallelism,
        concurrency_group, created_at, started_at, finished_at, updated_at, wake_at, error_code, error_message, owner, lease_until, refs, trigger_detail,
        epoch, secret_params
        """

    /// The run's columns with an empty definition in place of its text.
    static let runColumnsWithoutDefinition = runColumns.replacing(definitionColumn, with: "''")

    func runRecord(_ row: Row) -> RunRecord? {
        // The definition is in `definitions` (migration 7); a run without one reads as empty.
        let definition = row.string(3) ?? ""
        guard let id = row.string(0), let pipeline = row.string(1), let file = row.string(2),
              let status = row.string(4).flatMap(RunStatus.init(rawValue:)), let trigger = row.string(5).flatMap(Trigger.init(rawValue:)),
              let created = row.date(9) else { return nil }
        var record = RunRecord(id: RunID(id), pipeline: pipeline, pipelineFile: file, definition: definition, trigger: trigger,
                               params: Self.decode(row.string(6) ?? "{}"), parallelism: row.int(7) ?? 1, createdAt: created)
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
            var outputs: [String: [String: String]] = [:]
            for row in try database.query("SELECT step, key, value FROM outputs WHERE run_id = ?", [.text(id.rawValue)]) {
                outputs[row.string(0) ?? "", default: [:]][row.string(1) ?? ""] = row.string(2) ?? ""
            }
            var steps: [StepRecord] = []
            var attempts: [AttemptRecord] = []
            try database.forEachRow("""
                SELECT name, step, item, section, position, status, attempts, serial, retry_at, error_code, error_message, progress,
                       progress_message, started_at, finished_at FROM steps WHERE run_id = ?
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
            try database.forEachRow("""
                SELECT step, serial, attempt, counted, started_at, finished_at, pid, exit_code, signal, timed_out, error_code, message, log_path
                FROM attempts WHERE run_id = ?
                """, [.text(id.rawValue)]) { row in
                var a = AttemptRecord(step: StepName(row.string(0) ?? ""), serial: row.int(1) ?? 0, attempt: row.int(2) ?? 0,
                                      startedAt: row.date(4) ?? Date(timeIntervalSince1970: 0))
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
            // Read in key order and sorted here: SQLite's sorter copied every whole row first (a
            // third of loading a 1,000-step run). Attempts started together: by step name.
            steps.sort { $0.position < $1.position }
            attempts.sort { ($0.startedAt, $0.serial, $0.step.rawValue) < ($1.startedAt, $1.serial, $1.step.rawValue) }
            return StoredRun(run: run, steps: steps, attempts: attempts)
        }
    }

    public func loadForExecution(_ id: RunID, definition: Bool) throws -> StoredRun? {
        enum Found { case none, fresh(StoredRun), started }
        let found: Found = try database.read {
            let isFresh = try database.query("""
                SELECT status = 'queued' AND NOT EXISTS (SELECT 1 FROM steps WHERE run_id = ?1 AND (status <> 'queued' OR serial <> 0))
                FROM runs WHERE id = ?1
                """, [.text(id.rawValue)]).first?.bool(0)
            guard let isFresh else { return .none }
            guard isFresh else { return .started }
            let columns = definition ? Self.runColumns : Self.runColumnsWithoutDefinition
            let run = try database.query("SELECT \(columns) FROM runs WHERE id = ?", [.text(id.rawValue)]).first.flatMap(runRecord)
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

    /// The oldest unfinished run of `group` created before `run` (what a queued run waits for).
    public func activeRun(inGroup group: String, before run: RunRecord) throws -> RunRecord? {
        try database.query("""
            SELECT \(Self.runColumnsWithoutDefinition) FROM runs WHERE concurrency_group = ? AND id <> ?
              AND status NOT IN ('succeeded', 'failed', 'partial', 'cancelled', 'rolled_back', 'skipped')
              AND (created_at, id) < (?, ?)
            ORDER BY created_at, id LIMIT 1
            """, [.text(group), .text(run.id.rawValue), .date(run.createdAt), .text(run.id.rawValue)]).first.flatMap(runRecord)
    }

    /// Finished runs that finished before `cutoff`, oldest first (what gc may remove).
    public func finishedRuns(before cutoff: Date, limit: Int = 10_000) throws -> [RunRecord] {
        try database.query("""
            SELECT \(Self.runColumns) FROM runs
            WHERE status IN ('succeeded', 'failed', 'partial', 'cancelled', 'rolled_back', 'skipped')
              AND COALESCE(finished_at, updated_at) < ?
            ORDER BY finished_at LIMIT ?
            """, [.date(cutoff), .int(limit)]).compactMap(runRecord)
    }

    /// Deletes a finished run and everything recorded with it (steps, attempts, outputs,
    /// events). An unfinished run is never deleted; returns whether one was.
    @discardableResult
    public func deleteFinishedRun(_ id: RunID) throws -> Bool {
        try database.write {
            try database.run("""
                DELETE FROM runs WHERE id = ? AND status IN ('succeeded', 'failed', 'partial', 'cancelled', 'rolled_back', 'skipped')
                """, [.text(id.rawValue)]) > 0
        }
    }

    public func events(of run: RunID, after id: Int64) throws -> [RunEvent] {
        try database.query("SELECT id, at, kind, step, status, message FROM events WHERE run_id = ? AND id > ? ORDER BY id",
                           [.text(run.rawValue), .integer(id)]).map { row in
            RunEvent(id: Int64(row.int(0) ?? 0), at: row.date(1) ?? Date(timeIntervalSince1970: 0), kind: row.string(2) ?? "",
                     step: row.string(3), status: row.string(4), message: row.string(5))
        }
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try database.query("PRAGMA integrity_check").first?.string(0) ?? "no answer"
    }

    /// For each step status, the statuses a step may be in to move to it (itself included:
    /// re-recording a status is allowed), as `|a|b|` for `instr` (an `IN (...)` list made SQLite
    /// build a temporary table at every update of a step).
    static let allowedPredecessors: [StepStatus: String] = Dictionary(uniqueKeysWithValues: StepStatus.allCases.map { target in
        let from = StepStatus.allCases.filter { $0 == target || $0.canTransition(to: target) }
        return (target, "|" + from.map(\.rawValue).joined(separator: "|") + "|")
    })

    // MARK: - JSON of params

    /// No params (most runs): "{}" without an encoder (a JSONEncoder's first use in a process
    /// costs more than the rest of recording a small run's row).
    static func encode(_ params: [String: Value]) -> String {
        guard !params.isEmpty else { return "{}" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(params)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Nil for an empty map (the column stays NULL).
    static func encodeMap<T: Encodable>(_ map: [String: T]) -> String? {
        guard !map.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(map)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Names as one `|`-separated text (`|a|b|`, `|` for none; NULL: not known). Param names
    /// are `[A-Za-z_][A-Za-z0-9_]*`, so `|` never occurs in one.
    static func encodeNames(_ names: Set<String>?) -> String? {
        names.map { "|" + $0.sorted().map { $0 + "|" }.joined() }
    }

    static func decodeNames(_ text: String?) -> Set<String>? {
        text.map { Set($0.split(separator: "|").map(String.init)) }
    }

    static func decodeMap<T: Decodable>(_ text: String?) -> [String: T] {
        guard let text, text != "{}" else { return [:] }
        return (try? JSONDecoder().decode([String: T].self, from: Data(text.utf8))) ?? [:]
    }

    static func decode(_ text: String) -> [String: Value] {
        guard text != "{}" else { return [:] }
        return (try? JSONDecoder().decode([String: Value].self, from: Data(text.utf8))) ?? [:]
    }
}
