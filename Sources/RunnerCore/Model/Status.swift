/// The status of a step instance. Raw values are stable: they are stored and sent over the API.
public enum StepStatus: String, CaseIterable, Hashable, Sendable, Codable {
    case queued, running, succeeded, failed, skipped, cancelled

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
