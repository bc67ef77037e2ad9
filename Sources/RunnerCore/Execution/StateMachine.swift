/// The only transitions a run or a step may make. Every status change, in the engine and in
/// the store, is checked here; terminal states never change.
extension RunStatus {
    public func canTransition(to next: RunStatus) -> Bool {
        switch (self, next) {
        case (.queued, .running), (.queued, .cancelled), (.queued, .skipped), (.queued, .failed):
            true
        case (.running, .waiting), (.running, .rollbackPending), (.running, .succeeded), (.running, .failed),
             (.running, .partial), (.running, .cancelled):
            true
        case (.waiting, .running), (.waiting, .cancelled), (.waiting, .failed):
            true
        case (.rollbackPending, .rolledBack), (.rollbackPending, .failed), (.rollbackPending, .cancelled):
            true
        default:
            false
        }
    }
}

extension StepStatus {
    /// `running → queued` is a retry waiting for its delay or its deferred time.
    public func canTransition(to next: StepStatus) -> Bool {
        switch (self, next) {
        case (.queued, .running), (.queued, .skipped), (.queued, .cancelled), (.queued, .failed):
            true
        case (.running, .succeeded), (.running, .failed), (.running, .cancelled), (.running, .queued):
            true
        default:
            false
        }
    }
}

public struct TransitionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var subject: String
    public var from: String
    public var to: String

    public init(subject: String, from: String, to: String) {
        self.subject = subject
        self.from = from
        self.to = to
    }

    public var description: String { "\(subject) cannot go from \(from) to \(to)" }
}
