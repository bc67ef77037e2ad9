/// The status of a step instance. Raw values are stable: they are stored and sent over the API.
public enum StepStatus: String, CaseIterable, Hashable, Sendable, Codable {
    case queued, running, succeeded, failed, skipped, cancelled

    /// A for_each step's status from its instances': queued while all are, running while any
    /// runs or some are still to run, then cancelled, failed, succeeded, skipped in that order
    /// (no instances: skipped). What `steps.X.status` reads, in `if` and in contract templates.
    public static func combined(_ statuses: some Sequence<StepStatus>) -> StepStatus {
        var queued = false, running = false, cancelled = false, failed = false, succeeded = false, other = false
        for status in statuses {
            switch status {
            case .queued: queued = true
            case .running: running = true
            case .cancelled: cancelled = true
            case .failed: failed = true
            case .succeeded: succeeded = true
            case .skipped: other = true
            }
        }
        if queued, !(running || cancelled || failed || succeeded || other) { return .queued }
        if running || queued { return .running }
        if cancelled { return .cancelled }
        if failed { return .failed }
        if succeeded { return .succeeded }
        return .skipped
    }

    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .skipped, .cancelled: true
        }
    }
}

/// The status of a run.
public enum RunStatus: String, CaseIterable, Hashable, Sendable, Codable {
    case queued, running, waiting
    case rollbackPending = "rollback_pending"
    case succeeded, failed, partial, cancelled
    case rolledBack = "rolled_back"
    case skipped

    public var isTerminal: Bool {
        switch self {
        case .queued, .running, .waiting, .rollbackPending: false
        case .succeeded, .failed, .partial, .cancelled, .rolledBack, .skipped: true
        }
    }
}
