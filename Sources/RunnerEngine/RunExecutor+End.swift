import FoundationEssentials
import RunnerCore

extension RunExecutor {
    /// Records why the run ends before (more of) it executes.
    func end(_ loaded: StoredRun, _ early: EarlyEnd) async throws -> StoredRun {
        switch early {
        case .ends(let status, let code, let message):
            try await endWithoutExecuting(loaded, status: status, code: code, message: message)
        case .unloadable(let diagnostics):
            try await endUnloadable(loaded, diagnostics)
        }
    }

    /// Ends a run without executing (more of) it: its workspace cannot be made, it was
    /// cancelled while queued, or its definition no longer loads. What a runner left in flight
    /// is killed (its process group, found by its marker) and recorded as interrupted; running
    /// steps end `failed` with `code` (`cancelled` for a cancelled run), the others are skipped,
    /// and the run ends `status`. No definition is needed for any of it.
    func endWithoutExecuting(_ loaded: StoredRun, status: RunStatus, code: String?,
                             message: String) async throws -> StoredRun {
        var loaded = loaded
        if loaded.steps.isEmpty, let full = try await offLoop({ [store, runID] in try store.load(runID) }) {
            loaded = full
        }
        let now = clock.now()
        let journaled = LaunchJournal.read(LaunchJournal.path(state, runID))
        for entry in journaled { launcher.killAbandoned(marker: Self.marker(runID, entry.name, entry.serial)) }
        var changes: [StoreChange] = []
        for attempt in loaded.attempts where attempt.isInFlight {
            launcher.killAbandoned(marker: Self.marker(runID, attempt.step, attempt.serial))
            changes.append(.attemptFinished(attempt.step, serial: attempt.serial, end: AttemptEnd(.interrupted),
                                            errorCode: "RUNNER_INTERRUPTED", message: message, counted: false, at: now))
        }
        for step in loaded.steps where !step.status.isTerminal {
            let ended: StepStatus = step.status == .running ? (status == .cancelled ? .cancelled : .failed) : .skipped
            changes.append(.stepStatus(step.name, ended, attempts: step.attempts, serial: step.serial, retryAt: nil,
                                       errorCode: ended == .failed ? code : nil,
                                       message: ended == .skipped ? "not started: \(message)" : message, at: now))
        }
        changes.append(.runStatus(status, errorCode: code, message: message, wakeAt: nil, at: now))
        let final = try await storeAndReload(changes)
        options.observer?(.runStatus(runID, status, errorCode: code, message: message, wakeAt: nil))
        return final
    }

    /// The run's stored definition no longer loads (a runner of another version wrote it, or
    /// it was altered): the run cannot go on, so it ends `failed` with DEFINITION_UNLOADABLE —
    /// or `cancelled`, if that was asked — instead of staying unfinished for ever.
    func endUnloadable(_ loaded: StoredRun, _ diagnostics: [Diagnostic]) async throws -> StoredRun {
        let store = self.store, runID = self.runID
        let cancelled = (try? await offLoop { try store.isCancelRequested(runID) }) ?? false
        let first = diagnostics.first(where: \.isError) ?? diagnostics.first
        let why = first.map { d in (d.location.map { "\($0): " } ?? "") + "error[\(d.code.rawValue)]: \(d.message)" }
            ?? "no diagnostic"
        let message = "the run's stored pipeline definition no longer loads (\(why)); "
            + "nothing more of the run can be executed"
        return try await endWithoutExecuting(loaded, status: cancelled ? .cancelled : .failed,
                                             code: cancelled ? nil : Self.unloadableCode, message: message)
    }

    /// The run's error code when its definition no longer loads.
    static let unloadableCode = "DEFINITION_UNLOADABLE"
}
