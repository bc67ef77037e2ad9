import FoundationEssentials
import RunnerCore

/// How an executor takes its run, in one trip off its loop (a mkdir among thousands of runs'
/// directories is slow, and the loop serves every run of a server): the record as this
/// process has just created it while nobody has claimed it (so nothing of it started),
/// otherwise as stored; claimed, which bumps its epoch; with the state directory and the
/// run's log folder made.
enum RunStartup {
    enum Outcome: Sendable {
        case notFound
        case finished(RunStatus)
        /// Another runner holds a live lease on it.
        case busy
        case ready(StoredRun, Lease)
    }

    struct Request: Sendable {
        var run: RunID
        var owner: String
        /// The run as `RunService.admit` created it in this process, if it did.
        var created: RunRecord?
        /// Whether the executor needs the run's definition (it was not given the pipeline).
        var needsDefinition: Bool
        var now: Date
        var leaseUntil: Date
    }

    static func claim(_ request: Request, store: RunStore, state: StateDirectory) throws -> Outcome {
        let loaded: StoredRun
        let claimed: Lease
        if let created = fresh(request), let lease = try store.claimUnstarted(request.run, owner: request.owner,
                                                                                 until: request.leaseUntil) {
            loaded = created
            claimed = lease
        } else {
            guard let stored = try store.loadForExecution(request.run, definition: request.needsDefinition) else {
                return .notFound
            }
            guard !stored.run.status.isTerminal else { return .finished(stored.run.status) }
            guard let lease = try store.claim(request.run, owner: request.owner, until: request.leaseUntil,
                                              now: request.now, isOwnerAlive: ProcessIdentity.isAlive) else {
                return .busy
            }
            loaded = stored
            claimed = lease
        }
        do {
            try state.ensure()
            try state.ensureLogs(of: request.run)
        } catch {
            try? store.releaseLease(claimed)
            throw error
        }
        return .ready(loaded, claimed)
    }

    /// A fresh run comes without its steps (all queued: the scheduler makes them); one this
    /// process has just created is not read back at all.
    static func fresh(_ request: Request) -> StoredRun? {
        guard let run = request.created, run.id == request.run, run.status == .queued,
              !request.needsDefinition || !run.definition.isEmpty else { return nil }
        return StoredRun(run: run, steps: [], attempts: [])
    }
}
