import FoundationEssentials
import RunnerCore

/// What every front door does with runs: launch one (`+Launch`), show, find, cancel and retry
/// (`+Runs`, `+Retry`), execute or resume it, find runs whose runner died. The CLI, hooks and
/// the server share this; none of it prints.
public final class RunService: @unchecked Sendable {
    public let state: StateDirectory
    public let store: any RunStateStore
    public let environment: [String: String]
    let launcher: ProcessLauncher
    /// Where gitref params are resolved when a run is launched, and workspaces checked out.
    let git: any RefResolver
    /// What the service's runs are recorded and measured by.
    public let clock: any Clock

    /// Over the adapters the composition root chose (the CLI's `Composition`: SQLite and
    /// libgit2; tests: in-memory fakes).
    public init(state: StateDirectory, environment: [String: String], store: any RunStateStore, git: any RefResolver,
                launcher: ProcessLauncher = PosixProcessLauncher(), clock: any Clock = SystemClock()) {
        self.state = state
        self.environment = environment
        self.launcher = launcher
        self.git = git
        self.store = store
        self.clock = clock
    }

    /// Executes (or resumes) a run to its end.
    /// `pipeline`, when given, must be the run's own definition, already loaded; the run
    /// returned then comes without the definition's text (the caller has the pipeline).
    public func execute(_ id: RunID, parallelism: Int? = nil, echoOutput: Bool = false, pipeline: ValidatedPipeline? = nil,
                        observer: (@Sendable (ExecutionEvent) -> Void)? = nil) async throws -> StoredRun {
        var options = RunExecutor.Options(environment: environment, git: git, parallelism: parallelism, observer: observer)
        options.clock = clock
        if let text = environment["RUNNER_STORE_WAIT"], let seconds = Double(text), seconds > 0 { options.storePatience = seconds }
        if let text = environment["RUNNER_LEASE"], let seconds = Double(text), seconds >= 1 { options.leaseDuration = seconds }
        options.echoOutput = echoOutput
        options.pipeline = pipeline
        options.created = lock.withLock { created.removeValue(forKey: id) }
        // A queued run whose predecessor's runner died would wait forever: finish that one here.
        options.finishOrphan = { [weak self] id in _ = try? await self?.resume(id) }
        // The lease keeps other processes out; this keeps a second executor of this process out
        // (both would hold the same owner identity).
        guard Self.executingLock.withLock({ Self.executing.insert(id).inserted }) else {
            throw RunExecutor.ExecutorError.busy(id, owner: "this process")
        }
        defer { _ = Self.executingLock.withLock { Self.executing.remove(id) } }
        let executor = RunExecutor(run: id, store: store, launcher: launcher, state: state, options: options)
        currentExecutor = executor
        defer { currentExecutor = nil }
        return try await executor.execute()
    }

    /// Where the runs' secret param values are sealed at rest.
    public var secretBox: SecretBox { SecretBox(state: state, environment: environment) }

    /// Resumes a run whose runner died, in this process.
    @discardableResult
    public func resume(_ id: RunID, observer: (@Sendable (ExecutionEvent) -> Void)? = nil) async throws -> StoredRun {
        try await execute(id, observer: observer)
    }

    private let lock = Lock()
    nonisolated(unsafe) private var executor: RunExecutor?
    /// Runs this service created and has not executed yet, as created: the executor starts
    /// from the record instead of reading it back.
    nonisolated(unsafe) private var created: [RunID: RunRecord] = [:]

    func remember(_ run: RunRecord) {
        lock.withLock { created[run.id] = run }
    }
    /// Runs executing in this process, whatever service runs them.
    private static let executingLock = Lock()
    nonisolated(unsafe) private static var executing: Set<RunID> = []

    /// Whether an executor of this process is executing the run.
    public static func isExecutingHere(_ id: RunID) -> Bool { executingLock.withLock { executing.contains(id) } }
    private var currentExecutor: RunExecutor? {
        get { lock.lock(); defer { lock.unlock() }; return executor }
        set { lock.lock(); executor = newValue; lock.unlock() }
    }

    /// Cancels the run this service is executing (Ctrl-C).
    public func cancelCurrent() {
        currentExecutor?.cancel()
    }

    /// Unfinished runs nobody is executing: their owner died or their lease ran out.
    public func orphans(pipeline: String? = nil, now: Date? = nil) throws -> [RunRecord] {
        let now = now ?? clock.now()
        return try store.runs(RunQuery(pipeline: pipeline, statuses: [.running, .waiting, .rollbackPending, .queued], limit: 1000))
            .filter { Self.isOrphan($0, now: now) }
    }

    /// Unfinished with nobody executing it. A run created but never claimed gets a few
    /// seconds: its creator is normally about to start it.
    public static func isOrphan(_ run: RunRecord, now: Date = Date()) -> Bool {
        guard !run.status.isTerminal else { return false }
        // Never claimed: its creator normally starts it within milliseconds; after 30 s it died.
        guard let owner = run.owner else { return now.timeIntervalSince(run.createdAt) > 30 }
        return !ProcessIdentity.isAlive(owner) || (run.leaseUntil ?? .distantPast) < now
    }

    /// Its garbage collector (`runner gc`, the server's passes).
    public var garbageCollector: GarbageCollector { GarbageCollector(store: store, state: state) }
}
