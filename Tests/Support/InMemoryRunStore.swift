import Foundation
import RunnerCore

/// Every role of `RunStateStore` in memory, under one lock: what the engine and the front doors
/// can be tested against without a database, and the second backend of
/// `RunStoreConformanceTests`, which holds it to the same contracts as SQLite (fencing by
/// epoch, create-unless-active, idempotency claims, tokens, audit, schedule marks, metrics).
/// Each operation takes the lock once, so each is atomic; a batch of changes is applied to a
/// copy of the run and stored only when every change was accepted.
public final class InMemoryRunStore: RunStateStore, @unchecked Sendable {
    public let health = StoreHealth()
    let lock = Lock(recursive: true)

    /// A run as stored, with everything recorded with it.
    struct Entry {
        var run: RunRecord
        var steps: [StepRecord]
        var attempts: [AttemptRecord] = []
        var outputs: [String: [String: String]] = [:]
        var events: [RunEvent] = []
        var cancelRequestedAt: Date?
    }

    var entries: [RunID: Entry] = [:]
    var idempotency: [IdempotencyKey: KeyRecord] = [:]
    var tokenRecords: [TokenRecord] = []
    var auditRecords: [AuditRecord] = []
    var scheduleMarks: [ScheduleEntry: (cron: String, at: Date)] = [:]
    private var failure: (any Error)?

    public init() {}

    /// From now on every write throws `error` (nil: writes succeed again), as a failing disk
    /// or a lock held elsewhere would; a transient error also makes `health` report it.
    public func failWrites(with error: (any Error)?) {
        lock.withLock { failure = error }
    }

    /// A write: under the lock, refused while `failWrites` says so.
    func write<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock {
            if let failure {
                if failure.isTransientStoreFailure { health.recordFailure("\(failure)") }
                throw failure
            }
            let result = try body()
            health.recordSuccess()
            return result
        }
    }

    func read<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock(body)
    }
}

/// A failure of the in-memory store (a missing run or step, a key already used).
public struct InMemoryStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}

// MARK: - Runs

extension InMemoryRunStore {
    public func createRun(_ run: RunRecord, steps: [StepRecord]) throws {
        try write { try insert(run, steps: steps) }
    }

    public func createRun(_ run: RunRecord, steps: [StepRecord], unlessActiveIn group: String) throws -> RunRecord? {
        try write {
            let active = entries.values.map(\.run).filter { $0.concurrencyGroup == group && !$0.status.isTerminal }
                .min { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            if let active { return Self.withoutDefinition(active) }
            try insert(run, steps: steps)
            return nil
        }
    }

    /// What SQLite keeps of a new run: its identity, params, status, owner and lease; of each
    /// step its place and status, and for a reused step its message, finish time and outputs.
    private func insert(_ given: RunRecord, steps givenSteps: [StepRecord]) throws {
        guard entries[given.id] == nil else { throw InMemoryStoreError("a run \(given.id) exists already") }
        var run = RunRecord(id: given.id, pipeline: given.pipeline, pipelineFile: given.pipelineFile,
                            definition: given.definition, trigger: given.trigger, params: given.params,
                            parallelism: given.parallelism, createdAt: given.createdAt)
        run.status = given.status
        run.refs = given.refs
        run.triggerDetail = given.triggerDetail
        run.concurrencyGroup = given.concurrencyGroup
        run.updatedAt = given.updatedAt
        run.owner = given.owner
        run.leaseUntil = given.leaseUntil
        run.secretParams = given.secretParams
        run.actor = given.actor
        var entry = Entry(run: run, steps: [])
        for step in givenSteps {
            var kept = StepRecord(name: step.name, step: step.step, item: step.item, section: step.section,
                                  position: step.position)
            kept.status = step.status
            if step.errorMessage != nil || !step.outputs.isEmpty {
                kept.errorMessage = step.errorMessage
                kept.finishedAt = step.finishedAt
            }
            if !step.outputs.isEmpty { entry.outputs[step.name.rawValue] = step.outputs }
            entry.steps.append(kept)
        }
        entry.events = [RunEvent(id: 1, at: run.createdAt, kind: "run", step: nil, status: run.status.rawValue,
                                 message: "created")]
        entries[run.id] = entry
    }

    public func load(_ run: RunID) throws -> StoredRun? {
        read { entries[run].map(Self.stored) }
    }

    static func stored(_ entry: Entry) -> StoredRun {
        var steps = entry.steps.sorted { $0.position < $1.position }
        for index in steps.indices { steps[index].outputs = entry.outputs[steps[index].name.rawValue] ?? [:] }
        let attempts = entry.attempts.sorted {
            ($0.startedAt, $0.serial, $0.step.rawValue) < ($1.startedAt, $1.serial, $1.step.rawValue)
        }
        return StoredRun(run: entry.run, steps: steps, attempts: attempts)
    }

    static func withoutDefinition(_ run: RunRecord) -> RunRecord {
        var run = run
        run.definition = ""
        return run
    }

    public func runs(_ query: RunQuery) throws -> [RunRecord] {
        read {
            var selected = entries.values.map(\.run).filter { run in
                (query.pipeline.map { run.pipeline == $0 } ?? true)
                    && (query.actor.map { run.actor == $0 } ?? true)
                    && (query.statuses.isEmpty || query.statuses.contains(run.status))
            }
            if let before = query.before {
                guard let cursor = entries[before]?.run else { return [] }
                selected = selected.filter { ($0.createdAt, $0.id) < (cursor.createdAt, cursor.id) }
            }
            return selected.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
                .prefix(max(1, min(query.limit, 1000))).map(Self.withoutDefinition)
        }
    }

    public func findRun(idOrPrefix text: String) throws -> RunRecord? {
        read {
            if let exact = entries[RunID(text)] { return Self.withoutDefinition(exact.run) }
            let prefix = Self.asciiLowercased(text)
            let matches = entries.keys.filter { Self.asciiLowercased($0.rawValue).hasPrefix(prefix) }
                .sorted(by: >).prefix(2)
            guard matches.count == 1, let id = matches.first else { return nil }
            return entries[id].map { Self.withoutDefinition($0.run) }
        }
    }

    /// Lowercased as SQL's LIKE compares: ASCII letters only.
    private static func asciiLowercased(_ text: String) -> String {
        String(text.map { $0.isASCII ? Character($0.lowercased()) : $0 })
    }

    public func events(of run: RunID, after id: Int64) throws -> [RunEvent] {
        read { (entries[run]?.events ?? []).filter { $0.id > id } }
    }

    public func activeRun(inGroup group: String, before run: RunRecord) throws -> RunRecord? {
        read {
            entries.values.map(\.run)
                .filter { $0.concurrencyGroup == group && $0.id != run.id && !$0.status.isTerminal }
                .filter { ($0.createdAt, $0.id) < (run.createdAt, run.id) }
                .min { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
                .map(Self.withoutDefinition)
        }
    }

    public func finishedRuns(before cutoff: Date, limit: Int) throws -> [RunRecord] {
        read {
            let finished = entries.values.map(\.run)
                .filter { $0.status.isTerminal && ($0.finishedAt ?? $0.updatedAt) < cutoff }
            // As SQL orders them: a run without a finish time first.
            let ordered = finished.sorted { ($0.finishedAt ?? .distantPast, $0.id) < ($1.finishedAt ?? .distantPast,
                                                                                      $1.id) }
            return Array(ordered.prefix(max(0, limit)))
        }
    }

    @discardableResult
    public func deleteFinishedRun(_ run: RunID) throws -> Bool {
        try write {
            guard let entry = entries[run], entry.run.status.isTerminal else { return false }
            entries[run] = nil
            return true
        }
    }

    public func requestCancel(_ run: RunID, at: Date) throws -> Bool {
        try write {
            guard let entry = entries[run], !entry.run.status.isTerminal else { return false }
            if entry.cancelRequestedAt == nil { entries[run]?.cancelRequestedAt = at }
            return true
        }
    }

    public func isCancelRequested(_ run: RunID) throws -> Bool {
        read { entries[run]?.cancelRequestedAt != nil }
    }
}
