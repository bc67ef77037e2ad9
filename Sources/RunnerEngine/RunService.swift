import FoundationEssentials
import RunnerCore
import RunnerStore
import RunnerYAML

/// What every front door does with runs: admit a new run under its pipeline's concurrency
/// rule, execute or resume it, find runs whose runner died. The CLI, hooks and the server
/// share this; none of it prints.
public final class RunService: @unchecked Sendable {
    public let state: StateDirectory
    public let store: any RunStateStore
    public let environment: [String: String]
    let launcher: ProcessLauncher

    public init(state: StateDirectory, environment: [String: String], launcher: ProcessLauncher = PosixProcessLauncher()) throws {
        self.state = state
        self.environment = environment
        self.launcher = launcher
        store = try Self.openStore(state)
    }

    /// The run state of `state` (made there, with its directory, when there is none): the one
    /// place above the store that chooses its backend.
    public static func openStore(_ state: StateDirectory) throws -> any RunStateStore {
        try state.ensure()
        return try SQLiteRunStore(path: state.database.path)
    }

    /// With a store already opened (`openStore`), as `runner apply` opens it while it reads
    /// the pipeline, or a test's.
    public init(state: StateDirectory, environment: [String: String], store: any RunStateStore,
                launcher: ProcessLauncher = PosixProcessLauncher()) {
        self.state = state
        self.environment = environment
        self.launcher = launcher
        self.store = store
    }

    public enum Admission: Sendable {
        case created(RunID)
        /// `on_conflict: reject`: an unfinished run of the group exists.
        case rejected(active: RunRecord, errorCode: String)
        /// `on_conflict: skip`: the new run was recorded as skipped.
        case skipped(RunID, active: RunRecord)
    }

    /// Creates a run, applying the pipeline's concurrency rule: reject, skip, queue (recorded
    /// now; it starts when the group's earlier runs have finished) or cancel_running (the same,
    /// after asking them to cancel).
    /// `refs` are the commits the gitref params resolved to (`GitRefs.resolve`), recorded
    /// with the run; `triggerDetail` says what launched it (a hook's ref and pusher).
    public func admit(pipeline: ValidatedPipeline, definition: String, file: String, params: [String: Value], trigger: Trigger,
                      parallelism: Int, refs: [String: RecordedRef] = [:], triggerDetail: [String: String] = [:]) async throws -> Admission {
        var random = SystemRandomNumberGenerator()
        let now = Date()
        let id = RunID.generate(at: now, using: &random)
        var (run, steps) = RunCreation.records(id: id, pipeline: pipeline, definition: definition, file: file, params: params,
                                               trigger: trigger, parallelism: parallelism, at: now)
        run.refs = refs
        run.triggerDetail = triggerDetail
        run.params = try secretBox.seal(run.params, names: run.secretParams ?? [])
        guard let group = run.concurrencyGroup, let policy = pipeline.pipeline.concurrency else {
            try store.createRun(run, steps: steps)
            remember(run)
            return .created(id)
        }
        switch policy.onConflict {
        case .queue, .cancelRunning:
            // Recorded now, queued behind the group's earlier runs: the executor waits for
            // them (cancelling them first for cancel_running), so no front door blocks here.
            try store.createRun(run, steps: steps)
            remember(run)
            return .created(id)
        case .reject, .skip:
            guard let active = try store.createRun(run, steps: steps, unlessActiveIn: group) else {
                remember(run)
                return .created(id)
            }
            if policy.onConflict == .reject {
                return .rejected(active: active, errorCode: policy.errorCode?.value ?? ConcurrencyPolicy.defaultErrorCode)
            }
            run.status = .skipped
            run.errorMessage = "skipped: run \(active.id) of group \(group) is \(active.status.rawValue)"
            try store.createRun(run, steps: steps.map { var s = $0; s.status = .skipped; return s })
            return .skipped(id, active: active)
        }
    }

    /// Executes (or resumes) a run to its end.
    /// `pipeline`, when given, must be the run's own definition, already loaded; the run
    /// returned then comes without the definition's text (the caller has the pipeline).
    public func execute(_ id: RunID, parallelism: Int? = nil, echoOutput: Bool = false, pipeline: ValidatedPipeline? = nil,
                        observer: (@Sendable (ExecutionEvent) -> Void)? = nil) async throws -> StoredRun {
        var options = RunExecutor.Options(environment: environment, parallelism: parallelism, observer: observer)
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

    private func remember(_ run: RunRecord) {
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
    public func orphans(pipeline: String? = nil, now: Date = Date()) throws -> [RunRecord] {
        try store.runs(RunQuery(pipeline: pipeline, statuses: [.running, .waiting, .rollbackPending, .queued], limit: 1000))
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

    /// Finds a run by id or by a unique prefix of its id.
    public func find(_ text: String) throws -> RunRecord? {
        try store.findRun(idOrPrefix: text)
    }
}

extension RunService {
    public struct RetryError: Error, CustomStringConvertible, Sendable {
        public var description: String
        /// Set when the pipeline's concurrency rule refused the new run (reject): the active run
        /// and the pipeline's code.
        public var conflict: (active: RunRecord, errorCode: String)?

        init(description: String, conflict: (active: RunRecord, errorCode: String)? = nil) {
            self.description = description
            self.conflict = conflict
        }
    }

    /// A new run of the same definition and params that re-runs `step` and everything after
    /// it; the main steps before it that succeeded keep their results (and outputs), marked
    /// as reused. A finished run never changes: this is how it is re-run.
    public func retry(_ original: RunID, from step: String, trigger: Trigger = .cli) throws -> RunID {
        guard let stored = try store.load(original) else { throw RetryError(description: "no run \(original)") }
        let loaded = PipelineLoader.load(bytes: Array(stored.run.definition.utf8), file: stored.run.pipelineFile)
        guard let pipeline = loaded.pipeline else { throw RetryError(description: "the stored pipeline of run \(original) no longer loads") }
        let graph = pipeline.graph
        guard let start = graph.indexByName[step] else {
            throw RetryError(description: "run \(original) has no step '\(step)'"
                             + (Suggestion.hint(for: step, in: pipeline.steps.map(\.name.value)).map { "; \($0)" } ?? ""))
        }
        guard pipeline.steps[start].section.isMain else { throw RetryError(description: "--from takes a main step; '\(step)' is a \(pipeline.steps[start].section) step") }
        // What runs again: the step, what needs it (transitively), and every later stage.
        var rerun = Set([start])
        var queue = [start]
        var dependents = Array(repeating: [Int](), count: graph.nodes.count)
        for (node, info) in graph.nodes.enumerated() { for need in info.needs { dependents[need].append(node) } }
        while let node = queue.popLast() {
            for d in dependents[node] where rerun.insert(d).inserted { queue.append(d) }
        }
        if let stage = graph.stage(of: start) {
            for node in graph.nodes.indices where (graph.stage(of: node) ?? -1) > stage { rerun.insert(node) }
        }
        var random = SystemRandomNumberGenerator()
        let now = Date()
        let id = RunID.generate(at: now, using: &random)
        var (run, steps) = RunCreation.records(id: id, pipeline: pipeline, definition: stored.run.definition, file: stored.run.pipelineFile,
                                               params: try secretBox.reveal(stored.run.params), trigger: trigger,
                                               parallelism: stored.run.parallelism, at: now)
        run.params = try secretBox.seal(run.params, names: run.secretParams ?? [])
        run.errorMessage = nil
        // The same commits as the original: a retry never picks up a branch that moved.
        run.refs = stored.run.refs
        let previous = Dictionary(stored.steps.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for index in steps.indices {
            guard let node = graph.indexByName[steps[index].step], pipeline.steps[node].section.isMain, !rerun.contains(node),
                  let old = previous[steps[index].name], old.status == .succeeded else { continue }
            steps[index].status = .succeeded
            steps[index].outputs = old.outputs
            steps[index].errorMessage = "reused from run \(original)"
            steps[index].finishedAt = old.finishedAt
        }
        // The same concurrency rule as any launch: reject and skip answer now; queue and
        // cancel_running runs wait in their executor.
        guard let group = run.concurrencyGroup, let policy = pipeline.pipeline.concurrency,
              policy.onConflict == .reject || policy.onConflict == .skip else {
            try store.createRun(run, steps: steps)
            return id
        }
        if let active = try store.createRun(run, steps: steps, unlessActiveIn: group) {
            let code = policy.errorCode?.value ?? ConcurrencyPolicy.defaultErrorCode
            throw RetryError(description: "pipeline '\(run.pipeline)' already has an active run \(active.id) (\(active.status.rawValue)) in concurrency group '\(group)'",
                             conflict: (active, code))
        }
        return id
    }
}

extension RunService {
    /// What gc removed (or, on a dry run, would remove).
    public struct Collected: Sendable {
        public var run: RunRecord
        public var retention: Duration
    }

    /// The default time finished runs are kept (Belayer's job records: 3 days).
    public static let defaultRetention: Duration = .seconds(3 * 86_400)

    /// Removes finished runs past their retention — the pipeline's `retention`, else
    /// `defaultRetention`; `olderThan` overrides both — with their logs and workspaces, and
    /// half-written workspaces no run owns. Unfinished runs are never touched.
    public func collectGarbage(now: Date = Date(), olderThan: Duration? = nil, defaultRetention: Duration = RunService.defaultRetention,
                               dryRun: Bool = false) throws -> [Collected] {
        let shortest = olderThan ?? .seconds(0)
        var retentionOf: [String: Duration] = [:]
        var collected: [Collected] = []
        for run in try store.finishedRuns(before: now.addingTimeInterval(-Double(shortest.components.seconds))) {
            let retention: Duration
            if let olderThan {
                retention = olderThan
            } else if let cached = retentionOf[run.definition] {
                retention = cached
            } else {
                let loaded = PipelineLoader.load(bytes: Array(run.definition.utf8), file: run.pipelineFile)
                retention = loaded.pipeline?.pipeline.retention?.value ?? defaultRetention
                retentionOf[run.definition] = retention
            }
            let finished = run.finishedAt ?? run.updatedAt
            guard finished.addingTimeInterval(Double(retention.components.seconds)) <= now else { continue }
            collected.append(Collected(run: run, retention: retention))
            guard !dryRun else { continue }
            // Files first: a crash in between leaves a record whose files are gone (gc again
            // finishes it), never files no record points to.
            try? FileManager.default.removeItem(at: state.logs(of: run.id))
            try? FileManager.default.removeItem(at: GitRefs.workspace(state, run.id))
            try store.deleteFinishedRun(run.id)
        }
        if !dryRun {
            let workspaces = state.root.appendingPathComponent("workspaces")
            for name in (try? FileManager.default.contentsOfDirectory(atPath: workspaces.path)) ?? []
            where name.hasPrefix(".") && name.hasSuffix(".partial") {
                let id = RunID(String(name.dropFirst().dropLast(".partial".count)))
                if (try? store.load(id))??.run.status.isTerminal != false {
                    try? FileManager.default.removeItem(at: workspaces.appendingPathComponent(name))
                }
            }
        }
        return collected
    }
}
