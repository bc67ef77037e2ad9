import FoundationEssentials
import RunnerCore

/// How a batch of `StoreChange`s is written: in the caller's transaction (`+Leases`), changes
/// that can be are merged (`coalesce`), status changes are checked against the state machine
/// in their statements' WHERE clauses, and the batch's events go in last, numbered on.
extension SQLiteRunStore {
    func write(_ changes: [StoreChange], to run: RunID) throws {
        guard !changes.isEmpty else { return }
        var events: [EventRow] = []
        for write in Self.coalesce(changes) {
            switch write {
            case .change(let change): try apply(change, run.rawValue, events: &events)
            case .finishedAttempt(let attempt): try insertFinished(attempt, run.rawValue)
            case .startedAndEnded(let first, let second): try applyPair(first, second, run.rawValue, events: &events)
            case .event(let change): events.append(EventRow(change))
            }
        }
        try insert(events, of: run)
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

        init?(_ change: StoreChange?) {
            guard case .stepStatus(let name, let status, let attempts, let serial, let retryAt, let code, let message,
                                   let at)? = change else { return nil }
            (self.name, self.status, self.attempts, self.serial) = (name, status, attempts, serial)
            (self.retryAt, self.errorCode, self.message, self.at) = (retryAt, code, message, at)
        }
    }

    static func coalesce(_ changes: [StoreChange]) -> [Write] {
        var writes: [Write?] = changes.map { .change($0) }
        // Attempts: (step, serial) -> index of its start in `writes`.
        var started: [String: Int] = [:]
        // Steps: name -> index of a `running` change not yet followed by a progress update.
        var running: [StepName: Int] = [:]
        func start(at j: Int?) -> AttemptRecord? {
            guard let j, case .change(.attemptStarted(let a))? = writes[j] else { return nil }
            return a
        }
        for (i, change) in changes.enumerated() {
            switch change {
            case .attemptStarted(let a):
                started["\(a.serial) \(a.step.rawValue)"] = i
            case .attemptProcess(let name, let serial, let pid):
                let j = started["\(serial) \(name.rawValue)"]
                if let j, var a = start(at: j) {
                    a.pid = pid
                    writes[j] = .change(.attemptStarted(a))
                    writes[i] = nil
                }
            case .attemptFinished(let name, let serial, let end, let code, let message, let counted, let at):
                let j = started.removeValue(forKey: "\(serial) \(name.rawValue)")
                if let j, var a = start(at: j) {
                    (a.finishedAt, a.exitCode, a.signal) = (at, end.exitCode, end.signal)
                    a.timedOut = end.reason == .timedOut
                    (a.errorCode, a.message, a.counted) = (code, message, counted)
                    writes[j] = nil
                    writes[i] = .finishedAttempt(a)
                }
            case .stepStatus(let name, let status, _, _, _, _, _, _):
                let j = running.removeValue(forKey: name)
                let first = j.flatMap { StepStatusChange(writes[$0].flatMap(\.change)) }
                if let j, let first, let this = StepStatusChange(change), status != .running,
                   StepStatus.running.canTransition(to: status) {
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
            INSERT INTO attempts (run_id, step, serial, attempt, counted, started_at, log_path, pid, finished_at,
                                  exit_code, signal, timed_out, error_code, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(a.step.rawValue), .int(a.serial), .int(a.attempt), .bool(a.counted),
                  .date(a.startedAt), .string(a.logPath), .int32(a.pid), .date(a.finishedAt), .int32(a.exitCode),
                  .int32(a.signal), .bool(a.timedOut), .string(a.errorCode), .string(a.message)])
    }

    /// `first` (running) then `second`, as one update: the transition is checked against
    /// `first`'s allowed predecessors, and `second` is one running may move to (checked when
    /// the two were paired).
    private func applyPair(_ first: StepStatusChange, _ second: StepStatusChange, _ id: String,
                           events: inout [EventRow]) throws {
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
                  .string(second.message), .string(first.message), .date(first.at), .bool(status.isTerminal),
                  .date(second.at), .text(id), .text(second.name.rawValue), .text(Self.predecessors(of: .running))])
        if changed == 0 { try refuseStepChange(first.name, to: .running, id) }
        events.append(EventRow(second))
    }

    private func apply(_ change: StoreChange, _ id: String, events: inout [EventRow]) throws {
        switch change {
        case .runStatus(let status, let code, let message, let wake, let at):
            try applyRunStatus(status, code: code, message: message, wake: wake, at: at, id)
            events.append(EventRow(at: at, kind: "run", step: nil, status: status.rawValue, message: message))
        case .stepStatus:
            guard let step = StepStatusChange(change) else { return }
            try applyStepStatus(step, id)
            events.append(EventRow(step))
        case .attemptStarted(let a):
            try database.run("""
                INSERT INTO attempts (run_id, step, serial, attempt, counted, started_at, log_path, pid)
                VALUES (?, ?, ?, ?, 1, ?, ?, ?)
                """, [.text(id), .text(a.step.rawValue), .int(a.serial), .int(a.attempt), .date(a.startedAt),
                      .string(a.logPath), .int32(a.pid)])
        case .lostAttempt(let a):
            try applyLost(a, id)
        case .attemptProcess(let name, let serial, let pid):
            try database.run("UPDATE attempts SET pid = ? WHERE run_id = ? AND step = ? AND serial = ?",
                             [.int32(pid), .text(id), .text(name.rawValue), .int(serial)])
        case .attemptFinished(let name, let serial, let end, let code, let message, let counted, let at):
            try database.run("""
                UPDATE attempts SET finished_at = ?, exit_code = ?, signal = ?, timed_out = ?, error_code = ?,
                  message = ?, counted = ?
                WHERE run_id = ? AND step = ? AND serial = ? AND finished_at IS NULL
                """, [.date(at), .int32(end.exitCode), .int32(end.signal), .bool(end.reason == .timedOut),
                      .string(code), .string(message), .bool(counted), .text(id), .text(name.rawValue), .int(serial)])
        case .outputs(let name, let outputs):
            for (key, value) in outputs {
                try database.run("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
                                 [.text(id), .text(name.rawValue), .text(key), .text(value)])
            }
        case .progress(let name, let percent, let message):
            try database.run("""
                UPDATE steps SET progress = ?, progress_message = ? WHERE run_id = ? AND name = ? AND status = 'running'
                """, [.int(percent), .string(message), .text(id), .text(name.rawValue)])
        }
    }

    private func applyRunStatus(_ status: RunStatus, code: String?, message: String?, wake: Date?, at: Date,
                                _ id: String) throws {
        let current = try database.query("SELECT status FROM runs WHERE id = ?", [.text(id)]).first?.string(0)
        guard let current, let from = RunStatus(rawValue: current) else {
            throw StoreError(description: "no run \(id)")
        }
        guard from == status || from.canTransition(to: status) else {
            throw TransitionError(subject: "run \(id)", from: from.rawValue, to: status.rawValue)
        }
        try database.run("""
            UPDATE runs SET status = ?, error_code = COALESCE(?, error_code),
              error_message = COALESCE(?, error_message), wake_at = ?, updated_at = ?,
              started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END,
              finished_at = CASE WHEN ? THEN ? ELSE finished_at END
            WHERE id = ?
            """, [.text(status.rawValue), .string(code), .string(message), .date(wake), .date(at),
                  .text(status.rawValue), .date(at), .bool(status.isTerminal), .date(at), .text(id)])
    }

    /// One statement: the transition is checked by the WHERE clause (only the states the
    /// state machine allows to reach the new status); a refused change is explained after.
    private func applyStepStatus(_ change: StepStatusChange, _ id: String) throws {
        let status = change.status
        let changed = try database.run("""
            UPDATE steps SET status = ?, attempts = ?, serial = ?, retry_at = ?,
              error_code = CASE WHEN ? IN ('succeeded', 'running') THEN NULL ELSE COALESCE(?, error_code) END,
              error_message = CASE WHEN ? = 'succeeded' THEN NULL ELSE COALESCE(?, error_message) END,
              started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END,
              finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
              progress = CASE WHEN ? = 'succeeded' THEN 100 ELSE progress END
            WHERE run_id = ? AND name = ? AND instr(?, '|' || status || '|') > 0
            """, [.text(status.rawValue), .int(change.attempts), .int(change.serial), .date(change.retryAt),
                  .text(status.rawValue), .string(change.errorCode), .text(status.rawValue), .string(change.message),
                  .text(status.rawValue), .date(change.at), .bool(status.isTerminal), .date(change.at),
                  .text(status.rawValue), .text(id), .text(change.name.rawValue), .text(Self.predecessors(of: status))])
        if changed == 0 { try refuseStepChange(change.name, to: status, id) }
    }

    /// Why a step's status change changed nothing: no such step, or a transition refused.
    private func refuseStepChange(_ name: StepName, to status: StepStatus, _ id: String) throws -> Never {
        let current = try database.query("SELECT status FROM steps WHERE run_id = ? AND name = ?",
                                          [.text(id), .text(name.rawValue)]).first?.string(0)
        guard let current else { throw StoreError(description: "no step \(name) in run \(id)") }
        throw TransitionError(subject: "step \(name) of run \(id)", from: current, to: status.rawValue)
    }

    private func applyLost(_ a: AttemptRecord, _ id: String) throws {
        try database.run("""
            INSERT OR IGNORE INTO attempts (run_id, step, serial, attempt, counted, started_at, finished_at, error_code,
                                            message, log_path)
            VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
            """, [.text(id), .text(a.step.rawValue), .int(a.serial), .int(a.attempt), .date(a.startedAt),
                  .date(a.finishedAt), .string(a.errorCode), .string(a.message), .string(a.logPath)])
        try database.run("UPDATE steps SET serial = MAX(serial, ?) WHERE run_id = ? AND name = ?",
                         [.int(a.serial), .text(id), .text(a.step.rawValue)])
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
        var next = Int64(try database.query("SELECT COALESCE(MAX(id), 0) FROM events WHERE run_id = ?",
                                            [.text(run.rawValue)]).first?.int(0) ?? 0)
        var start = 0
        while start < events.count {
            let count = Self.rowsPerInsert(remaining: events.count - start)
            var values: [SQLValue] = []
            values.reserveCapacity(count * 7)
            for row in events[start..<(start + count)] {
                next += 1
                values += [.text(run.rawValue), .integer(next), .date(row.at), .text(row.kind), .string(row.step),
                           .string(row.status), .string(row.message)]
            }
            try database.run("INSERT INTO events (run_id, id, at, kind, step, status, message) VALUES "
                             + Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: count).joined(separator: ", "), values)
            start += count
        }
    }

    /// The run's next event number from a subquery in VALUES (an INSERT ... SELECT from the
    /// table it inserts into made SQLite copy the SELECT's row into a temporary table first).
    func event(_ run: RunID, at: Date, kind: String, step: String?, status: String?, message: String?) throws {
        try database.run("""
            INSERT INTO events (run_id, id, at, kind, step, status, message)
              VALUES (?1, (SELECT COALESCE(MAX(id), 0) + 1 FROM events WHERE run_id = ?1), ?2, ?3, ?4, ?5, ?6)
            """, [.text(run.rawValue), .date(at), .text(kind), .string(step), .string(status), .string(message)])
    }

    /// For each step status, the statuses a step may be in to move to it (itself included:
    /// re-recording a status is allowed), as `|a|b|` for `instr` (an `IN (...)` list made SQLite
    /// build a temporary table at every update of a step).
    static let allowedPredecessors = Dictionary(uniqueKeysWithValues: StepStatus.allCases.map { to in
        let from = StepStatus.allCases.filter { $0 == to || $0.canTransition(to: to) }
        return (to, "|" + from.map { $0.rawValue + "|" }.joined())
    })

    static func predecessors(of status: StepStatus) -> String { allowedPredecessors[status] ?? "|" }
}

extension SQLiteRunStore.Write {
    var change: StoreChange? {
        if case .change(let change) = self { change } else { nil }
    }
}

extension SQLiteRunStore.EventRow {
    init(_ change: SQLiteRunStore.StepStatusChange) {
        self.init(at: change.at, kind: "step", step: change.name.rawValue, status: change.status.rawValue,
                  message: change.message)
    }
}
