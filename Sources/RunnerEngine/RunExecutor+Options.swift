import FoundationEssentials
import RunnerCore

extension RunExecutor {
    public struct Options: Sendable {
        public var parallelism: Int?
        public var killGrace: Duration = .seconds(10)
        public var leaseDuration: TimeInterval = 15
        /// The runner's environment: steps inherit it, under the pipeline's own variables.
        public var environment: [String: String]
        public var observer: (@Sendable (ExecutionEvent) -> Void)?
        public var echoOutput = false
        public var pollInterval: Duration = .milliseconds(250)
        /// The pipeline already loaded from the run's definition (by `apply`, which just
        /// validated the same text); saves a second parse and a second model in memory.
        public var pipeline: ValidatedPipeline?
        /// Finishes a run whose runner died (a queued run waiting behind it would wait forever).
        public var finishOrphan: (@Sendable (RunID) async -> Void)?
        /// The run as this process has just created it (`RunService.admit`): not read back.
        public var created: RunRecord?
        /// How long a store that fails transiently (locked by another process, disk full) is
        /// waited for before the run stops: its steps are stopped, nothing more is launched,
        /// and `runner runs resume` continues it (RUNNER_STORE_WAIT, seconds).
        public var storePatience: Double = 60
        /// Where the run's workspace is checked out from (tests give a fake).
        public var git: any RefResolver
        /// The time the run is recorded and measured by (tests give a clock moved by hand).
        public var clock: any Clock = SystemClock()

        public init(environment: [String: String], git: any RefResolver, parallelism: Int? = nil,
                    observer: (@Sendable (ExecutionEvent) -> Void)? = nil) {
            self.environment = environment
            self.git = git
            self.parallelism = parallelism
            self.observer = observer
        }
    }

    public enum ExecutorError: Error, CustomStringConvertible, Sendable {
        case notFound(RunID)
        case finished(RunID, RunStatus)
        case busy(RunID, owner: String)
        case invalidDefinition(RunID, [Diagnostic])
        case store(String)
        /// The store failed transiently for longer than `storePatience`: the run stopped.
        case storeUnavailable(RunID, String)
        /// Another runner claimed the run (this one was paused past its lease): it stopped.
        case leaseLost(RunID, String)

        public var description: String {
            switch self {
            case .notFound(let id): "no run \(id)"
            case .finished(let id, let status): "run \(id) has already finished (\(status.rawValue))"
            case .busy(let id, let owner): "run \(id) is being executed by another runner (\(owner))"
            case .invalidDefinition(let id, let d):
                "the stored pipeline of run \(id) no longer loads: \(d.first?.message ?? "")"
            case .store(let message): "state store: \(message)"
            case .storeUnavailable(let id, let message):
                "\(message); run \(id) stopped: its steps were stopped and nothing more was started "
                    + "('runner runs resume \(id)' continues it)"
            case .leaseLost(let id, let message):
                "\(message); this runner stopped its steps of run \(id) and started nothing more"
            }
        }
    }

    /// What the executor reports for a failure of the store or of the lease. A thread the
    /// system could not make is reported as it is (the CLI says so and exits 70).
    static func executorError(_ error: any Error, _ run: RunID) -> any Error {
        switch error {
        case let lost as LeaseLost: ExecutorError.leaseLost(run, "\(lost)")
        case let gaveUp as StoreUnavailable: ExecutorError.storeUnavailable(run, "\(gaveUp)")
        case let known as ExecutorError: known
        case let thread as ThreadStartError: thread
        default: ExecutorError.store("\(error)")
        }
    }
}
