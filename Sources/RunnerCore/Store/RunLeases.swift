import FoundationEssentials

/// Who executes a run, and every change of its durable state (see `Lease` for fencing).
///
/// Atomicity contract (today SQLite keeps it with `BEGIN IMMEDIATE`; a backend with row locks
/// keeps it by locking the run's row first, e.g. PostgreSQL's `SELECT ... FOR UPDATE` or an
/// `UPDATE ... WHERE owner = ? AND epoch = ?` as the transaction's first statement):
/// - A claim checks the run (unfinished; for `claim`, no live lease of a living other owner;
///   for `claimUnstarted`, never claimed and still queued) and bumps its epoch atomically: of
///   two concurrent claims at most one gets a given epoch, and each claim's epoch is greater
///   than every earlier claim's. The lease it returns carries that epoch.
/// - A fenced `apply(_:under:leaseUntil:)` checks the owner and epoch and applies every change
///   (and the extension of the lease) in one transaction, or nothing: no claim can commit
///   between its check and its writes. A lease that is no longer the run's throws `LeaseLost`
///   (naming the current holder) and changes nothing.
/// - An unfenced `apply(_:to:)` applies every change in one transaction, or nothing.
/// - Both check each status change against the state machine (`canTransition`; re-recording
///   the current status is allowed) and throw `TransitionError` for one it refuses; a finished
///   run or step never changes status, whoever writes.
/// - Each status change appends an event (see `RunRecordStore`), in the order of the changes.
public protocol RunLeases: AnyObject, Sendable {
    /// Applies the changes in one transaction, unfenced (a run nobody executes). An empty list
    /// does nothing.
    func apply(_ changes: [StoreChange], to run: RunID) throws
    /// Applies the changes in one transaction under `lease`, and extends the lease to
    /// `leaseUntil` when given: first of all, the transaction checks that the lease is still
    /// the run's (owner and epoch); if not, it throws `LeaseLost` and changes nothing. An empty
    /// list of changes only checks (and renews) the lease.
    func apply(_ changes: [StoreChange], under lease: Lease, leaseUntil: Date?) throws
    /// Takes the run if nobody holds a live lease on it: its epoch is bumped, so the lease of
    /// whoever held it before is void. Nil when the run is finished, missing or held.
    func claim(_ run: RunID, owner: String, until: Date, now: Date, isOwnerAlive: (String) -> Bool) throws -> Lease?
    /// Claims a run nobody has ever claimed (still queued, no owner): one that has not started.
    func claimUnstarted(_ run: RunID, owner: String, until: Date) throws -> Lease?
    /// Gives the run up, if `lease` is still its lease (a void lease releases nothing).
    func releaseLease(_ lease: Lease) throws
}
