import RunnerCore

/// How the engine answered a launch or a retry. The front doors render it (HTTP statuses,
/// log lines, messages and exit codes); the run, when one was recorded, comes without its
/// definition (the caller has the pipeline).
public enum LaunchOutcome: Sendable {
    /// Recorded, queued: the front door executes it (or hands it to a runner).
    case accepted(RunRecord)
    /// `on_conflict: skip`: recorded as skipped, because `active` is unfinished.
    case skipped(RunRecord, active: RunRecord)
    /// `on_conflict: reject`: nothing recorded; `code` is the pipeline's error code.
    case rejected(active: RunRecord, code: String)
    /// The params, their gitrefs or the request did not pass: every problem (at least one),
    /// each with the param's own code when it declares one.
    case invalid([Diagnostic])
    /// An Idempotency-Key's first request was answered: its response, as kept.
    case replayed(status: Int, body: [UInt8])
    /// The Idempotency-Key was used with another payload.
    case keyMismatch
    /// The first request with the Idempotency-Key was still being processed when this one
    /// stopped waiting for it.
    case keyInFlight

    /// What a front door says of a conflict: the launching pipeline, the active run and its
    /// group.
    public static func conflictMessage(pipeline: String, active: RunRecord) -> String {
        "pipeline '\(pipeline)' already has an active run \(active.id) (\(active.status.rawValue)) in concurrency "
            + "group '\(active.concurrencyGroup ?? "")'"
    }
}

/// How the engine answered a cancel.
public enum CancelOutcome: Sendable {
    case notFound
    case alreadyFinished(RunRecord)
    /// The cancel is recorded. `hasExecutor` false: nobody executes the run (its runner died,
    /// or none claimed it yet and its creator is gone), so nobody would act on the request
    /// and the caller may carry it out itself.
    case requested(RunRecord, hasExecutor: Bool)
}

/// A store failure met by a run operation, and what the operation was doing then. A front
/// door answers it as a failure of the store (503 or exit 75 when it may pass by itself),
/// never as "not found".
public struct OperationFailure: Error, TransientFailure, CustomStringConvertible {
    public enum Stage: Sendable {
        case readingRun, recordingKey, recordingRun, recordingCancel
    }

    public var stage: Stage
    public var error: any Error

    public init(_ stage: Stage, _ error: any Error) {
        self.stage = stage
        self.error = error
    }

    public var isTransient: Bool { error.isTransientStoreFailure }
    public var description: String { "\(error)" }
}
