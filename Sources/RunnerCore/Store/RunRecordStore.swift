import FoundationEssentials

/// Runs as records: created, read, listed, found by id, and removed once finished.
///
/// Atomicity contract (what the engine and the front doors rely on; a backend keeps it with the
/// locks it has, not necessarily a lock on the whole store):
/// - `createRun` stores the run, its steps (with the outputs and messages of reused steps) and
///   its first event in one transaction: a reader sees all of it or nothing.
/// - `createRun(_:steps:unlessActiveIn:)` is atomic with respect to every other create of the
///   same group: of two concurrent creates in a group with no unfinished run, at most one
///   succeeds and the other returns it. Creates in other groups are not held up (PostgreSQL:
///   a transaction-scoped advisory lock on the group, then the check, then the insert).
/// - A `load` reads the run, its steps, their outputs and its attempts from one consistent
///   snapshot: never the run of one transaction with the steps of another.
/// - `deleteFinishedRun` checks that the run is finished and removes it with everything
///   recorded with it (steps, attempts, outputs, events, definition) in one transaction.
/// - Events of a run are numbered from 1 without gaps, in the order their changes were made;
///   a reader never sees a later number before an earlier one is visible.
public protocol RunRecordStore: AnyObject, Sendable {
    func createRun(_ run: RunRecord, steps: [StepRecord]) throws
    /// Creates the run unless a run of its concurrency group is unfinished; then returns that
    /// run (the oldest, without its definition) and creates nothing.
    func createRun(_ run: RunRecord, steps: [StepRecord], unlessActiveIn group: String) throws -> RunRecord?
    func load(_ run: RunID) throws -> StoredRun?
    /// `load`, without the definition unless `definition` (a caller holding the parsed
    /// pipeline has no use for its text, which a large pipeline makes long).
    func load(_ run: RunID, definition: Bool) throws -> StoredRun?
    /// What an executor starts from: `load`, except that a run none of whose steps has started
    /// (queued, every step queued at serial 0) comes without its steps and attempts, which
    /// the executor knows without reading them, and without its definition unless `definition`
    /// (an executor given the parsed pipeline does not read it).
    func loadForExecution(_ run: RunID, definition: Bool) throws -> StoredRun?
    /// The runs the query selects, newest first (by creation, then id), at most 1 to 1,000 of
    /// them, without their definitions. A `before` cursor that names no run selects none.
    func runs(_ query: RunQuery) throws -> [RunRecord]
    /// The run whose id is `text`, else the only run whose id begins with `text` (ASCII case
    /// ignored); nil when none or several do. Without its definition.
    func findRun(idOrPrefix text: String) throws -> RunRecord?
    /// The run's events numbered after `id`, in order.
    func events(of run: RunID, after id: Int64) throws -> [RunEvent]
    /// The oldest unfinished run of `group` created before `run` (what a queued run waits for),
    /// without its definition.
    func activeRun(inGroup group: String, before run: RunRecord) throws -> RunRecord?
    /// Finished runs that finished (or, without a finish time, were last updated) before
    /// `cutoff`, oldest first, with their definitions: what gc may remove.
    func finishedRuns(before cutoff: Date, limit: Int) throws -> [RunRecord]
    /// Deletes a finished run and everything recorded with it. An unfinished run is never
    /// deleted; returns whether one was.
    @discardableResult
    func deleteFinishedRun(_ run: RunID) throws -> Bool
}

extension RunRecordStore {
    public func load(_ run: RunID, definition: Bool) throws -> StoredRun? {
        guard var stored = try load(run) else { return nil }
        if !definition { stored.run.definition = "" }
        return stored
    }

    public func loadForExecution(_ run: RunID, definition: Bool) throws -> StoredRun? {
        guard var stored = try load(run, definition: definition) else { return nil }
        if stored.isFresh {
            stored.steps = []
            stored.attempts = []
        }
        return stored
    }

    public func finishedRuns(before cutoff: Date) throws -> [RunRecord] {
        try finishedRuns(before: cutoff, limit: 10_000)
    }
}
