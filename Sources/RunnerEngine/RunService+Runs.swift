import FoundationEssentials
import RunnerCore

/// Reading and cancelling runs, as every front door does.
extension RunService {
    /// Everything stored about a run; nil when there is none.
    public func show(_ id: RunID) throws -> StoredRun? {
        try store.load(id)
    }

    /// Finds a run by id or by a unique prefix of its id.
    public func find(_ text: String) throws -> RunRecord? {
        try store.findRun(idOrPrefix: text)
    }

    /// Asks the run's executor, wherever it runs, to cancel it, and audits the request.
    /// Throws `OperationFailure` when the store fails.
    public func cancel(_ id: RunID, audit context: AuditContext, at now: Date? = nil) throws -> CancelOutcome {
        let now = now ?? clock.now()
        guard let run = try read(id) else { return .notFound }
        guard !run.status.isTerminal else { return .alreadyFinished(run) }
        let requested: Bool
        do {
            requested = try store.requestCancel(id, at: now)
        } catch {
            throw OperationFailure(.recordingCancel, error)
        }
        guard requested else {
            // It finished (or was removed) since it was read.
            return try read(id).map { .alreadyFinished($0) } ?? .notFound
        }
        audit("cancel", run: id, pipeline: run.pipeline, params: [:], by: context, at: now)
        return .requested(run, hasExecutor: !Self.isOrphan(run, now: now))
    }

    private func read(_ id: RunID) throws -> RunRecord? {
        do {
            return try store.load(id, definition: false)?.run
        } catch {
            throw OperationFailure(.readingRun, error)
        }
    }
}
