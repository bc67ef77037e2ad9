import Foundation
import RunnerCore

/// The engine's store (`RunStore`) over an `InMemoryRunStore`, for tests of what the engine does
/// when the store fails: `fail(with:)` makes every write throw (a transient failure as a locked
/// or full database would), and `committed` lets a test wait until a change was stored.
public final class FaultyStore: RunStore, @unchecked Sendable {
    public let base: InMemoryRunStore
    /// Every change stored so far, in order (what a successful `apply` stored).
    public let committed = Observed<[StoreChange]>([])

    public init(_ base: InMemoryRunStore = InMemoryRunStore()) { self.base = base }

    public var health: StoreHealth { base.health }

    /// From now on every write throws `error` (nil: writes succeed again).
    public func fail(with error: (any Error)?) { base.failWrites(with: error) }

    /// Waits until a stored change started an attempt of `step`; false after 30 s.
    public func waitUntilStarted(_ step: StepName) async -> Bool {
        await committed.wait { changes in
            changes.contains { if case .attemptStarted(let attempt) = $0 { attempt.step == step } else { false } }
        }
    }

    // MARK: RunLeases, recording what was stored

    public func apply(_ changes: [StoreChange], to run: RunID) throws {
        try base.apply(changes, to: run)
        committed.update { $0 += changes }
    }

    public func apply(_ changes: [StoreChange], under lease: Lease, leaseUntil: Date?) throws {
        try base.apply(changes, under: lease, leaseUntil: leaseUntil)
        committed.update { $0 += changes }
    }

    public func claim(_ run: RunID, owner: String, until: Date, now: Date,
                      isOwnerAlive: (String) -> Bool) throws -> Lease? {
        try base.claim(run, owner: owner, until: until, now: now, isOwnerAlive: isOwnerAlive)
    }

    public func claimUnstarted(_ run: RunID, owner: String, until: Date) throws -> Lease? {
        try base.claimUnstarted(run, owner: owner, until: until)
    }

    public func releaseLease(_ lease: Lease) throws { try base.releaseLease(lease) }

    // MARK: RunRecordStore and CancelSignals, as they are

    public func createRun(_ run: RunRecord, steps: [StepRecord]) throws { try base.createRun(run, steps: steps) }

    public func createRun(_ run: RunRecord, steps: [StepRecord], unlessActiveIn group: String) throws -> RunRecord? {
        try base.createRun(run, steps: steps, unlessActiveIn: group)
    }

    public func load(_ run: RunID) throws -> StoredRun? { try base.load(run) }
    public func runs(_ query: RunQuery) throws -> [RunRecord] { try base.runs(query) }
    public func findRun(idOrPrefix text: String) throws -> RunRecord? { try base.findRun(idOrPrefix: text) }
    public func events(of run: RunID, after id: Int64) throws -> [RunEvent] { try base.events(of: run, after: id) }

    public func activeRun(inGroup group: String, before run: RunRecord) throws -> RunRecord? {
        try base.activeRun(inGroup: group, before: run)
    }

    public func finishedRuns(before cutoff: Date, limit: Int) throws -> [RunRecord] {
        try base.finishedRuns(before: cutoff, limit: limit)
    }

    @discardableResult
    public func deleteFinishedRun(_ run: RunID) throws -> Bool { try base.deleteFinishedRun(run) }

    public func requestCancel(_ run: RunID, at: Date) throws -> Bool { try base.requestCancel(run, at: at) }
    public func isCancelRequested(_ run: RunID) throws -> Bool { try base.isCancelRequested(run) }
}

/// A failure of the store that may pass by itself (a database locked by another process).
public struct TransientStoreFailure: TransientFailure, CustomStringConvertible, Sendable {
    public var description = "database is locked (injected)"
    public var isTransient: Bool { true }

    public init() {}
}
