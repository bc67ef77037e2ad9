import FoundationEssentials
import RunnerCore

/// What the executor keeps while a run executes, grouped by purpose.
extension RunExecutor {
    /// What the run's launches need, made once when the run is prepared.
    struct LaunchContext: Sendable {
        var directory: PipelineDirectory
        var environment: AttemptEnvironment
        /// The run's secret values, masked wherever the run's output, outputs and progress go.
        var masker: SecretMasker
    }

    /// What the scheduler's actions decided since the last commit, done once what decided it
    /// is stored; and the launches held until the store records again or the lease is
    /// confirmed (`StoreWriter.canLaunch`).
    struct StagedWork: Sendable {
        var changes: [StoreChange] = []
        var launches: [RunScheduler.LaunchRequest] = []
        var terminations: [(instance: Int, serial: Int)] = []
        var held: [RunScheduler.LaunchRequest] = []
        /// Step timeouts decided with their launch, started with the process (a held launch's
        /// time does not count against its step).
        var stepTimeouts: [RunScheduler.TimerKey: Double] = [:]
    }

    /// Timers on the loop: the scheduler's, and the next poll (nil once the run is finished).
    struct LoopTimers: Sendable {
        var scheduler: [RunScheduler.TimerKey: Int] = [:]
        var poll: Int?
    }

    /// The run's log folder and the launch journal in it.
    struct RunLogFolder: Sendable {
        var journal = LaunchJournal(path: "/dev/null")
        /// When the folder was last seen to exist (a commit with launches checks it again
        /// after 100 ms at most).
        var seenAt = Monotonic(seconds: 0)
        /// Since when the journal cannot be written (nil while it can).
        var journalFailingSince: Monotonic?
    }

    struct RunningAttempt: Sendable {
        var serial: Int
        var pid: Int32?
        var outputPath: String
        var progressPath: String
        var progressSize = 0
        var lastProgress: Int?
        var lastProgressMessage: String?
    }

    /// Why a run ends before (more of) it executes; thrown while it is prepared, recorded by
    /// `end(_:_:)`.
    enum EarlyEnd: Error {
        /// Its secrets, environment or workspace are not available, or it was cancelled while
        /// it waited for its group or before it started.
        case ends(RunStatus, code: String?, message: String)
        /// Its stored definition no longer loads.
        case unloadable([Diagnostic])
    }
}
