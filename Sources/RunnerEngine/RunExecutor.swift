#if canImport(Glibc)
import Glibc
#endif
import CProcess
import FoundationEssentials
import RunnerCore
import RunnerYAML

/// Runs one stored run to its end: drives the scheduler, starts and stops processes, records
/// every change durably, heartbeats its lease, and resumes a run a dead runner left behind.
public actor RunExecutor {
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
        public var git: any RefResolver = GitRefs.libgit2

        public init(environment: [String: String], parallelism: Int? = nil, observer: (@Sendable (ExecutionEvent) -> Void)? = nil) {
            self.environment = environment
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
            case .invalidDefinition(let id, let d): "the stored pipeline of run \(id) no longer loads: \(d.first?.message ?? "")"
            case .store(let message): "state store: \(message)"
            case .storeUnavailable(let id, let message):
                "\(message); run \(id) stopped: its steps were stopped and nothing more was started ('runner runs resume \(id)' continues it)"
            case .leaseLost(let id, let message):
                "\(message); this runner stopped its steps of run \(id) and started nothing more"
            }
        }
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

    let store: RunStore
    let launcher: ProcessLauncher
    let state: StateDirectory
    let options: Options
    public let runID: RunID
    let owner = ProcessIdentity.current
    /// This executor's claim of the run: every write checks it (see `Lease`).
    var lease: Lease?
    /// The scheduler's clock: wall time moved on by the monotonic clock.
    let clock = SteadyClock()
    /// Launches the scheduler decided that wait for the store to record again, or for the
    /// lease to be confirmed (`StoreWriter.canLaunch`).
    var heldLaunches: [RunScheduler.LaunchRequest] = []

    var scheduler: RunScheduler?
    var pipelineDirectory = URL(fileURLWithPath: "/")
    var pending: [StoreChange] = []
    var running: [Int: RunningAttempt] = [:]
    /// The scheduler's timers, as the event loop's timer ids.
    var timers: [RunScheduler.TimerKey: Int] = [:]
    /// The next poll, on the event loop (nil once the run is finished).
    var pollTimer: Int?
    /// When a renewal of the lease was last asked for (monotonic).
    var leaseRenewedAt = Monotonic(seconds: 0)
    var storedCancelSeen = false
    /// Launches and terminations decided by the actions staged since the last commit; done
    /// once what decided them is stored.
    var stagedLaunches: [RunScheduler.LaunchRequest] = []
    var journal = LaunchJournal(path: "/dev/null")
    /// Stores the changes, beside the steps (see `StoreWriter`).
    lazy var writer = StoreWriter.shared(for: store, patience: options.storePatience)
    var stagedTerminations: [(instance: Int, serial: Int)] = []
    /// Step timeouts decided with their launch, started with the process (a held launch's
    /// time does not count against its step).
    var stepTimeouts: [RunScheduler.TimerKey: Double] = [:]
    /// Workdirs as `confinedWorkdir` resolved them.
    var resolvedWorkdirs: [String: String] = [:]
    /// When the log folder was last seen to exist (a commit with launches checks it again
    /// after 100 ms at most).
    var logDirectorySeenAt = Monotonic(seconds: 0)
    /// The run's log folder.
    var logDirectory: String { state.logs(of: runID).path }
    /// Since when the launch journal cannot be written (nil while it can).
    var journalFailingSince: Monotonic?
    /// What every step of this run gets: the runner's environment, the pipeline's variables,
    /// the params and the run's own `RUNNER_*`; built once.
    var baseEnvironment: [String: String] = [:]
    var paramEnvironment: [(name: String, value: String)] = []
    /// The base environment with the params and the run's own `RUNNER_*` in: each step's
    /// environment starts from it.
    var stepEnvironment: [String: String] = [:]
    var paramNames: Set<String> = []
    /// `stepEnvironment` without the attempt's own variables, shared by the launches of steps
    /// that add nothing else.
    var sharedEnvironment: SharedEnvironment?
    static let attemptVariables: Set<String> = ["RUNNER_STEP", "RUNNER_ATTEMPT", "RUNNER_OUTPUT", "RUNNER_PROGRESS", "RUNNER_ATTEMPT_ID"]
    var pipelineDirectoryPath = "/"
    /// The run's secret values, masked wherever the run's output, outputs and progress go.
    var masker = SecretMasker([])
    nonisolated let continuation: EventInbox<Input>

    /// What reaches the executor on its loop: the scheduler's events and the writer's word.
    enum Input: Sendable {
        case scheduler(RunScheduler.Event)
        case store(StoreWriter.Signal)
    }
    /// Resumed when the scheduler says the run is finished (or a commit failed).
    var finished: CheckedContinuation<Void, any Error>?

    /// The thread this actor runs on: the launcher's event loop, where the steps' exits are
    /// seen, so an exit is handled and the next step started without changing threads. What
    /// may block for long (the store's loads, a checkout) runs elsewhere (`offLoop`).
    nonisolated let loop: EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    public init(run: RunID, store: RunStore, launcher: ProcessLauncher, state: StateDirectory, options: Options) {
        self.runID = run
        self.store = store
        self.launcher = launcher
        self.state = state
        self.options = options
        let loop = (launcher as? PosixProcessLauncher)?.loop ?? EventLoop.fallback
        self.loop = loop
        self.continuation = EventInbox(loop: loop)
    }

    /// Runs `body` off the event loop (other runs' steps are served meanwhile).
    nonisolated func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Task.detached { try body() }.value
    }

    /// Asks the run to stop: running steps are terminated, finally steps still run.
    public nonisolated func cancel() {
        continuation.yield(.scheduler(.cancel))
    }

    /// Executes (or resumes) the run until it is finished; returns what was stored.
    public func execute() async throws -> StoredRun {
        let now = Date()
        let store = self.store, runID = self.runID, owner = self.owner, leaseSeconds = options.leaseDuration, state = self.state
        let needsDefinition = options.pipeline == nil
        // A fresh run comes without its steps (all queued: the scheduler makes them); one this
        // process has just created is not read back at all. Loaded, claimed and given its log
        // directory in one trip off the loop (a mkdir among thousands of runs' directories is
        // slow, and the loop serves every run of a server).
        let created = options.created.flatMap { run -> StoredRun? in
            run.id == runID && run.status == .queued && (!needsDefinition || !run.definition.isEmpty)
                ? StoredRun(run: run, steps: [], attempts: []) : nil
        }
        enum Start: Sendable { case notFound, finished(RunStatus), busy, ready(StoredRun, Lease) }
        let claimedAt = Monotonic.now()
        let start: Start = try await offLoop {
            // The record as created while nobody has claimed the run (so nothing of it started);
            // otherwise as stored.
            let loaded: StoredRun
            let claimed: Lease
            if let created, let lease = try store.claimUnstarted(runID, owner: owner, until: now.addingTimeInterval(leaseSeconds)) {
                loaded = created
                claimed = lease
            } else {
                guard let stored = try store.loadForExecution(runID, definition: needsDefinition) else { return .notFound }
                guard !stored.run.status.isTerminal else { return .finished(stored.run.status) }
                guard let lease = try store.claim(runID, owner: owner, until: now.addingTimeInterval(leaseSeconds), now: now,
                                                  isOwnerAlive: ProcessIdentity.isAlive) else { return .busy }
                loaded = stored
                claimed = lease
            }
            do {
                try state.ensure()
                try state.ensureLogs(of: runID)
            } catch {
                try? store.releaseLease(claimed)
                throw error
            }
            return .ready(loaded, claimed)
        }
        var loaded: StoredRun
        switch start {
        case .notFound: throw ExecutorError.notFound(runID)
        case .finished(let status): throw ExecutorError.finished(runID, status)
        case .busy: throw ExecutorError.busy(runID, owner: (try? store.load(runID))?.run.owner ?? "?")
        case .ready(let run, let claimed):
            loaded = run
            self.lease = claimed
        }
        let claimed = self.lease!
        defer { try? store.releaseLease(claimed) }
        // Declared after the lease's release, so it runs before it: all is stored first.
        defer { writer.finish(runID) }
        let inbox = continuation
        writer.register(claimed, leaseDuration: leaseSeconds, confirmedAt: claimedAt) { inbox.yield(.store($0)) }
        leaseRenewedAt = claimedAt
        do {
            loaded.run.params = try SecretBox(state: state, environment: options.environment).reveal(loaded.run.params)
        } catch {
            return try await endWithoutExecuting(loaded, status: .failed, code: "SECRET_UNAVAILABLE", message: "\(error)")
        }
        let record = loaded.run
        let pipeline: ValidatedPipeline
        if let given = options.pipeline {
            pipeline = given
        } else {
            do {
                pipeline = try await offLoop { try Self.load(record) }
            } catch ExecutorError.invalidDefinition(_, let diagnostics) {
                return try await endUnloadable(loaded, diagnostics)
            }
        }
        pipelineDirectory = URL(fileURLWithPath: loaded.run.pipelineFile).deletingLastPathComponent()
        if let missing = prepareEnvironment(pipeline, loaded.run) {
            return try await endWithoutExecuting(loaded, status: .failed, code: "ENV_UNAVAILABLE", message: missing)
        }
        do {
            let git = options.git
            let prepared = try await offLoop { try GitRefs.prepareWorkspace(pipeline, run: record, state: state, git: git) }
            if let workspace = prepared {
                pipelineDirectory = workspace
                baseEnvironment["RUNNER_WORKSPACE"] = workspace.path
            }
        } catch {
            return try await endWithoutExecuting(loaded, status: .failed, code: "WORKSPACE_UNAVAILABLE", message: "\(error)")
        }
        finishEnvironment(loaded.run)
        journal = LaunchJournal(path: LaunchJournal.path(state, runID))
        defer { journal.close() }
        if try await recordLostAttempts(of: loaded, now: now) {
            guard let reloaded = try await offLoop({ try store.load(runID) }) else { throw ExecutorError.notFound(runID) }
            loaded = reloaded
        }
        // Only in `self.scheduler`: a second copy alive here would make the first change of each
        // of its arrays copy it (at 10,000 steps, megabytes).
        self.scheduler = RunScheduler(pipeline: pipeline, params: loaded.run.params, environment: options.environment,
                                     configuration: .init(parallelism: options.parallelism ?? loaded.run.parallelism,
                                                          seed: UInt64(truncatingIfNeeded: runID.rawValue.hashValue)))
        let isFresh = loaded.isFresh
        if isFresh, try await !waitForGroup(loaded.run, pipeline) {
            return try await endWithoutExecuting(loaded, status: .cancelled, code: nil, message: "cancelled while waiting for its concurrency group")
        }
        // A run taken over (not just created here) may have been asked to cancel meanwhile
        // (`runs cancel` of a run nobody executed): nothing of its main DAG starts then.
        if !isFresh || options.created == nil, try await offLoop({ [store, runID] in try store.isCancelRequested(runID) }) {
            if isFresh {
                return try await endWithoutExecuting(loaded, status: .cancelled, code: nil, message: "cancelled before it started")
            }
            storedCancelSeen = true
        }
        if isFresh {
            loaded = StoredRun(run: loaded.run, steps: [], attempts: [])
            loaded.run.definition = ""
            let actions = self.scheduler!.start(now: clock.now())
            try await apply(actions)
        } else {
            let (actions, inFlight) = try self.scheduler!.restore(
                runStatus: loaded.run.status, errorCode: loaded.run.errorCode, errorMessage: loaded.run.errorMessage,
                steps: loaded.steps.map {
                    RunScheduler.StoredInstance(name: $0.name, status: $0.status, attempts: $0.attempts, serial: $0.serial,
                                                retryAt: $0.retryAt, errorCode: $0.errorCode, errorMessage: $0.errorMessage,
                                                outputs: $0.outputs)
                }, now: clock.now())
            loaded = StoredRun(run: loaded.run, steps: [], attempts: [])
            loaded.run.definition = ""
            try await apply(actions)
            for (instance, serial) in inFlight {
                let name = self.scheduler!.instances[instance].name
                ProcessIdentity.killAttempt(marker: Self.marker(runID, name, serial))
                running[instance] = RunningAttempt(serial: serial, outputPath: "", progressPath: "")
                continuation.yield(.scheduler(.attemptEnded(instance: instance, serial: serial, AttemptEnd(.interrupted), outputs: [:])))
            }
            if storedCancelSeen { stage(self.scheduler!.handle(.cancel, now: clock.now())) }
            try await apply(self.scheduler!.resume(now: clock.now()))
        }
        // What parsing and validating the pipeline freed goes back to the system before the
        // run settles in (otherwise it stays resident until the run ends).
        runner_release_free_memory()
        schedulePoll()
        defer {
            if let poll = pollTimer { loop.cancelTimer(poll) }
            pollTimer = nil
        }
        if self.scheduler?.isFinished == false {
            try await withCheckedThrowingContinuation { (finished: CheckedContinuation<Void, any Error>) in
                self.finished = finished
                // From here on, events are handled on the loop's thread as the loop sees them.
                continuation.setConsumer { [self] batch in self.assumeIsolated { $0.process(batch) } }
            }
        }
        try flush()
        for timer in timers.values { loop.cancelTimer(timer) }
        timers.removeAll()
        // All that is left of the run goes to the store, then the final run is read back, in
        // one trip off the loop. The in-memory copy is dropped first (at 10,000 steps it and
        // the final one at once were the process's peak memory).
        self.scheduler = nil
        stepEnvironment = [:]
        sharedEnvironment = nil
        // A caller that gave the parsed pipeline has no use for the definition's text.
        let writer = self.writer, id = runID, withDefinition = options.pipeline == nil
        let final: StoredRun? = try await offLoop {
            do { try writer.drain(id) } catch { throw Self.executorError(error, id) }
            runner_release_free_memory()
            return try store.load(id, definition: withDefinition)
        }
        guard let final else { throw ExecutorError.notFound(runID) }
        return final
    }

    /// `queue` / `cancel_running`: a fresh run starts once the runs of its group created before
    /// it have finished (cancel_running asks them to cancel first). Returns false when this run
    /// was cancelled while it waited. The lease is renewed meanwhile.
    func waitForGroup(_ run: RunRecord, _ pipeline: ValidatedPipeline) async throws -> Bool {
        guard let group = run.concurrencyGroup, let policy = pipeline.pipeline.concurrency,
              policy.onConflict == .queue || policy.onConflict == .cancelRunning else { return true }
        var announced: Set<RunID> = []
        while let ahead = try store.activeRun(inGroup: group, before: run) {
            if try store.isCancelRequested(runID) { return false }
            if announced.insert(ahead.id).inserted {
                options.observer?(.waitingForGroup(active: ahead, group: group))
                if policy.onConflict == .cancelRunning { _ = try store.requestCancel(ahead.id, at: Date()) }
            }
            if RunService.isOrphan(ahead), let finish = options.finishOrphan { await finish(ahead.id) }
            try renewLeaseIfDue()
            await sleep(0.1)
        }
        return true
    }

    /// The run's stored definition, loaded again (resume, or a run started elsewhere). The
    /// loader's result, syntax tree included, is dropped here: only the model is kept.
    static func load(_ run: RunRecord) throws -> ValidatedPipeline {
        let result = PipelineLoader.load(bytes: Array(run.definition.utf8), file: run.pipelineFile)
        guard let pipeline = result.pipeline else { throw ExecutorError.invalidDefinition(run.id, result.diagnostics) }
        return pipeline
    }

    static func marker(_ run: RunID, _ step: StepName, _ serial: Int) -> String { "\(run.rawValue)/\(step.rawValue)/\(serial)" }

    /// Attempts the launch journal has but the store does not (the runner died between a
    /// launch and its commit): whatever is left of them is killed, and they are recorded as
    /// interrupted. Returns whether any was found.
    func recordLostAttempts(of run: StoredRun, now: Date) async throws -> Bool {
        let recorded = Set(run.attempts.map { "\($0.serial) \($0.step.rawValue)" })
        let lost = LaunchJournal.read(journal.path).filter { !recorded.contains("\($0.serial) \($0.name.rawValue)") }
        guard !lost.isEmpty else { return false }
        for entry in lost { ProcessIdentity.killAttempt(marker: Self.marker(runID, entry.name, entry.serial)) }
        let changes: [StoreChange] = lost.map { entry in
            var attempt = AttemptRecord(step: entry.name, serial: entry.serial, attempt: entry.attempt, startedAt: entry.at)
            attempt.finishedAt = now
            attempt.counted = false
            attempt.errorCode = "RUNNER_INTERRUPTED"
            attempt.message = ErrorClassifier.describe(AttemptEnd(.interrupted))
            attempt.logPath = state.logPath(run: runID, step: entry.name, serial: entry.serial)
            return .lostAttempt(attempt)
        }
        let writer = self.writer, id = self.runID
        do {
            try await offLoop {
                try writer.submit(changes, of: id)
                try writer.drain(id)
            }
        } catch {
            throw Self.executorError(error, id)
        }
        return true
    }

    // MARK: - Starting a process

    /// Starts the attempt's process; returns the attempt's record (with its pid if it started).
    func start(_ request: RunScheduler.LaunchRequest, now: Date) -> AttemptRecord {
        var attempt = AttemptRecord(step: request.name, serial: request.serial, attempt: request.attempt, startedAt: now)
        let stem = state.attemptStem(run: runID, step: request.name, serial: request.serial)
        attempt.logPath = stem + ".log"
        guard let scheduler else { return attempt }
        let step = scheduler.pipeline.steps[request.node]
        // The step creates these when it writes to them; absent files mean no outputs, no progress.
        let outputPath = stem + ".output"
        let progressPath = stem + ".progress"
        // What every step gets (made once), then the step's own variables under the params (a
        // step cannot shadow them), then what is this attempt's. A step that adds nothing but
        // the attempt's own `RUNNER_*` starts from the run's shared environment (its C strings
        // are made once per run).
        let plain = step.env.isEmpty && request.visibleOutputs.isEmpty && request.item == nil
        var environment = plain ? [:] : stepEnvironment
        for entry in step.env where !paramNames.contains(entry.name.value) {
            environment[entry.name.value] = entry.resolved(in: options.environment)
        }
        for (producer, key, value) in request.visibleOutputs {
            environment["STEP_\(NameRules.environmentName(producer))_\(NameRules.environmentName(key))"] = value
        }
        if let item = request.item { environment["ITEM"] = item }
        environment["RUNNER_STEP"] = request.name.rawValue
        environment["RUNNER_ATTEMPT"] = String(request.serial)
        environment["RUNNER_OUTPUT"] = outputPath
        environment["RUNNER_PROGRESS"] = progressPath
        environment["RUNNER_ATTEMPT_ID"] = Self.marker(runID, request.name, request.serial)
        let workdir = request.policy.workdir.map { pipelineDirectory.appendingPathComponent($0).standardizedFileURL.path }
            ?? pipelineDirectoryPath
        let instance = request.instance, serial = request.serial, name = request.name
        let declared = Set(step.outputs.map(\.value))
        let continuation = self.continuation
        let observer = options.observer
        var echo: (@Sendable (String, Bool) -> Void)?
        if options.echoOutput, let observer {
            echo = { @Sendable text, isError in observer(.output(name, text: text, isError: isError)) }
        }
        var spec = ProcessSpec(argv: request.policy.shell.argv + [step.run.value], environment: environment, workingDirectory: workdir,
                               logPath: stem + ".log", masker: masker, echo: echo)
        if plain { spec.shared = sharedEnvironment }
        running[instance] = RunningAttempt(serial: serial, outputPath: outputPath, progressPath: progressPath)
        observer?(.attemptStarted(name, attempt: request.attempt, serial: serial, logPath: spec.logPath, at: now))
        do {
            spec.workingDirectory = try confinedWorkdir(workdir, declared: request.policy.workdir)
            let masker = self.masker
            let pid = try launcher.launch(spec) { exit in
                let outputs = exit.reason == .exited(code: 0) ? Self.readOutputs(outputPath, declared: declared, masker: masker) : [:]
                // Read (masked), or holding what a secret may have been written to: its raw text
                // stays nowhere. (Without either, no unlink per step for a file never written.)
                if !declared.isEmpty || !masker.isEmpty { unlink(outputPath) }
                continuation.yield(.scheduler(.attemptEnded(instance: instance, serial: serial,
                                                            AttemptEnd(exit.reason, stderrTail: exit.stderrTail), outputs: outputs)))
            }
            running[instance]?.pid = pid
            attempt.pid = pid
        } catch {
            continuation.yield(.scheduler(.attemptEnded(instance: instance, serial: serial, AttemptEnd(.launchFailed("\(error)")),
                                                        outputs: [:])))
        }
        return attempt
    }

    /// The step's directory, resolved and confined once per run and path; after that one
    /// `stat` per launch tells it is still a directory (a realpath per launch was six
    /// syscalls a step).
    func confinedWorkdir(_ path: String, declared: String?) throws -> String {
        if let known = resolvedWorkdirs[path] {
            var info = stat()
            if stat(known, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return known }
        }
        let resolved = try Workdir.confined(path, declared: declared, root: pipelineDirectoryPath)
        resolvedWorkdirs[path] = resolved
        return resolved
    }

    /// The run's environment and its masks; what is wrong when a `from_env` variable a run
    /// needs is not set in the runner's environment.
    func prepareEnvironment(_ pipeline: ValidatedPipeline, _ run: RunRecord) -> String? {
        var environment = options.environment
        for entry in pipeline.pipeline.env { environment[entry.name.value] = entry.resolved(in: options.environment) }
        var secrets: [String] = []
        for entry in pipeline.pipeline.env + pipeline.pipeline.allSteps.flatMap(\.env) {
            guard let source = entry.fromEnvironment else { continue }
            guard let value = options.environment[source.value] else {
                if entry.isRequired {
                    return "env \(entry.name.value) takes the runner's environment variable \(source.value), which is not set "
                        + "(set it where the runner runs, or declare it `required: false`)"
                }
                continue
            }
            if entry.isSecret { secrets.append(value) }
        }
        environment["RUNNER_PIPELINE_DIR"] = pipelineDirectory.path
        baseEnvironment = environment
        paramEnvironment = []
        let secretNames = run.secretParams ?? []
        for spec in pipeline.pipeline.params {
            guard let value = run.params[spec.name.value], let text = value.environmentText else { continue }
            paramEnvironment.append((spec.environmentName, text))
            if spec.isSecret || secretNames.contains(spec.name.value) {
                secrets.append(text)
                if case .list(let items) = value { secrets += items.compactMap(\.environmentText) }
            }
            // A gitref param's commit, resolved when the run was created.
            if let ref = run.refs[spec.name.value] { paramEnvironment.append((spec.environmentName + "_SHA", ref.sha)) }
        }
        masker = SecretMasker(secrets)
        return nil
    }

    /// What every step of the run gets, made once: the base environment, the params and the
    /// run's own `RUNNER_*`, none of which a step's `env` can change.
    func finishEnvironment(_ run: RunRecord) {
        var environment = baseEnvironment
        for (name, value) in paramEnvironment { environment[name] = value }
        let own = ["RUNNER_RUN_ID": runID.rawValue, "RUNNER_PIPELINE": run.pipeline, "RUNNER_TRIGGER": run.trigger.rawValue]
        environment.merge(own) { $1 }
        paramNames = Set(paramEnvironment.map(\.name)).union(own.keys)
        stepEnvironment = environment
        sharedEnvironment = SharedEnvironment(environment.filter { !Self.attemptVariables.contains($0.key) })
        pipelineDirectoryPath = pipelineDirectory.path
        baseEnvironment = [:]
    }

    /// `key=value` lines of `$RUNNER_OUTPUT`, for the outputs the step declares.
    /// Values are masked: an output that holds a secret is stored, shown and passed on as `***`.
    static func readOutputs(_ path: String, declared: Set<String>, masker: SecretMasker) -> [String: String] {
        guard !declared.isEmpty, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var outputs: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals]).trimmingSpaces()
            if declared.contains(key) { outputs[key] = masker.mask(String(line[line.index(after: equals)...])) }
        }
        return outputs
    }

    // MARK: - Polling: progress, cancel requests, lease

    /// Reads the attempt's progress file when it grew; records a changed last line.
    func recordProgress(of instance: Int) {
        guard let scheduler, let attempt = running[instance], !attempt.progressPath.isEmpty,
              let read = Self.readProgress(attempt, masker: masker) else { return }
        running[instance]?.progressSize = read.size
        guard let percent = read.percent else { return }
        running[instance]?.lastProgress = percent
        running[instance]?.lastProgressMessage = read.message
        let name = scheduler.instances[instance].name
        pending.append(.progress(name, percent: percent, message: read.message))
        options.observer?(.progress(name, percent: percent, message: read.message))
    }

    /// The last line of the attempt's progress file when the file grew: its size, and the
    /// percentage and message (masked) when they differ from the last ones recorded. Only the
    /// file's last 4 KiB are read, however large the step let it grow.
    static func readProgress(_ attempt: RunningAttempt, masker: SecretMasker) -> (size: Int, percent: Int?, message: String?)? {
        var info = stat()
        guard stat(attempt.progressPath, &info) == 0, Int(info.st_size) != attempt.progressSize else { return nil }
        let size = Int(info.st_size)
        guard let tail = Self.readTail(attempt.progressPath, size: size, limit: 4096),
              let line = String(decoding: tail, as: UTF8.self).split(whereSeparator: \.isNewline).last else { return (size, nil, nil) }
        let parts = line.split(separator: " ", maxSplits: 1)
        guard let value = parts.first.flatMap({ Int($0) }) else { return (size, nil, nil) }
        let percent = min(100, max(0, value))
        let message = parts.count > 1 ? masker.mask(String(parts[1])) : nil
        guard percent != attempt.lastProgress || message != attempt.lastProgressMessage else { return (size, nil, nil) }
        return (size, percent, message)
    }

    /// The last `limit` bytes of a file of `size` bytes.
    static func readTail(_ path: String, size: Int, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let count = min(size, limit)
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(size - count)) }
        guard n >= 0 else { return nil }
        return Array(bytes.prefix(n))
    }

    func poll() {
        guard let scheduler, !scheduler.isFinished else { return }
        // The run's log folder removed under it: made again, so the steps' outputs, progress
        // and logs have somewhere to go (a log being written is reopened by the launcher).
        if !running.isEmpty { ensureLogDirectory() }
        for instance in running.keys { recordProgress(of: instance) }
        try? renewLeaseIfDue()
        if !storedCancelSeen {
            let store = self.store, runID = self.runID
            Task.detached { [weak self] in
                if (try? store.isCancelRequested(runID)) == true { await self?.storedCancelRequested() }
            }
        }
        try? flush()
    }

    /// The stored request is one cancel, however many polls see it: a second one would also
    /// stop the finally steps (that is what a second Ctrl-C does).
    func storedCancelRequested() {
        guard !storedCancelSeen else { return }
        storedCancelSeen = true
        continuation.yield(.scheduler(.cancel))
    }
}
