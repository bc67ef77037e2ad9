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

        public var description: String {
            switch self {
            case .notFound(let id): "no run \(id)"
            case .finished(let id, let status): "run \(id) has already finished (\(status.rawValue))"
            case .busy(let id, let owner): "run \(id) is being executed by another runner (\(owner))"
            case .invalidDefinition(let id, let d): "the stored pipeline of run \(id) no longer loads: \(d.first?.message ?? "")"
            case .store(let message): "state store: \(message)"
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

    var scheduler: RunScheduler?
    var pipelineDirectory = URL(fileURLWithPath: "/")
    var pending: [StoreChange] = []
    var running: [Int: RunningAttempt] = [:]
    var timers: [RunScheduler.TimerKey: Task<Void, Never>] = [:]
    var leaseRenewedAt = Date.distantPast
    var storedCancelSeen = false
    /// Launches and terminations decided by the actions staged since the last commit; done
    /// once what decided them is stored.
    var stagedLaunches: [RunScheduler.LaunchRequest] = []
    var journal = LaunchJournal(path: "/dev/null")
    /// Stores the changes, beside the steps (see `StoreWriter`).
    lazy var writer = StoreWriter.shared(for: store)
    var stagedTerminations: [(instance: Int, serial: Int)] = []
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
    var secretMasks: [String] = []
    nonisolated let continuation: EventInbox<RunScheduler.Event>
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
        continuation.yield(.cancel)
    }

    /// Executes (or resumes) the run until it is finished; returns what was stored.
    public func execute() async throws -> StoredRun {
        let now = Date()
        let store = self.store, runID = self.runID, owner = self.owner, lease = options.leaseDuration, state = self.state
        let needsDefinition = options.pipeline == nil
        // A fresh run comes without its steps (all queued: the scheduler makes them); one this
        // process has just created is not read back at all. Loaded, claimed and given its log
        // directory in one trip off the loop (a mkdir among thousands of runs' directories is
        // slow, and the loop serves every run of a server).
        let created = options.created.flatMap { run -> StoredRun? in
            run.id == runID && run.status == .queued && (!needsDefinition || !run.definition.isEmpty)
                ? StoredRun(run: run, steps: [], attempts: []) : nil
        }
        enum Start: Sendable { case notFound, finished(RunStatus), busy, ready(StoredRun) }
        let start: Start = try await offLoop {
            func claim() throws -> Bool {
                try store.claim(runID, owner: owner, until: now.addingTimeInterval(lease), now: now, isOwnerAlive: ProcessIdentity.isAlive)
            }
            // The record as created while nobody has claimed the run (so nothing of it started);
            // otherwise as stored.
            let loaded: StoredRun
            if let created, try store.claimUnstarted(runID, owner: owner, until: now.addingTimeInterval(lease)) {
                loaded = created
            } else {
                guard let stored = try store.loadForExecution(runID, definition: needsDefinition) else { return .notFound }
                guard !stored.run.status.isTerminal else { return .finished(stored.run.status) }
                guard try claim() else { return .busy }
                loaded = stored
            }
            do {
                try state.ensure()
                try state.ensureLogs(of: runID)
            } catch {
                try? store.releaseLease(runID, owner: owner)
                throw error
            }
            return .ready(loaded)
        }
        var loaded: StoredRun
        switch start {
        case .notFound: throw ExecutorError.notFound(runID)
        case .finished(let status): throw ExecutorError.finished(runID, status)
        case .busy: throw ExecutorError.busy(runID, owner: (try? store.load(runID))?.run.owner ?? "?")
        case .ready(let run): loaded = run
        }
        defer { try? store.releaseLease(runID, owner: owner) }
        // Declared after the lease's release, so it runs before it: all is stored first.
        defer { writer.finish(runID) }
        leaseRenewedAt = now
        let record = loaded.run
        let pipeline: ValidatedPipeline
        if let given = options.pipeline { pipeline = given } else { pipeline = try await offLoop { try Self.load(record) } }
        pipelineDirectory = URL(fileURLWithPath: loaded.run.pipelineFile).deletingLastPathComponent()
        prepareEnvironment(pipeline, loaded.run)
        do {
            if let workspace = try await offLoop({ try GitRefs.prepareWorkspace(pipeline, run: record, state: state) }) {
                pipelineDirectory = workspace
                baseEnvironment["RUNNER_WORKSPACE"] = workspace.path
            }
        } catch {
            return try await endBeforeStart(loaded, status: .failed, code: "WORKSPACE_UNAVAILABLE", message: "\(error)", now: now)
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
            return try await endBeforeStart(loaded, status: .cancelled, code: nil, message: "cancelled while waiting for its concurrency group", now: Date())
        }
        if isFresh {
            loaded = StoredRun(run: loaded.run, steps: [], attempts: [])
            loaded.run.definition = ""
            let actions = self.scheduler!.start(now: now)
            try await apply(actions)
        } else {
            let (actions, inFlight) = try self.scheduler!.restore(
                runStatus: loaded.run.status, errorCode: loaded.run.errorCode, errorMessage: loaded.run.errorMessage,
                steps: loaded.steps.map {
                    RunScheduler.StoredInstance(name: $0.name, status: $0.status, attempts: $0.attempts, serial: $0.serial,
                                                retryAt: $0.retryAt, errorCode: $0.errorCode, errorMessage: $0.errorMessage,
                                                outputs: $0.outputs)
                }, now: now)
            loaded = StoredRun(run: loaded.run, steps: [], attempts: [])
            loaded.run.definition = ""
            try await apply(actions)
            for (instance, serial) in inFlight {
                let name = self.scheduler!.instances[instance].name
                ProcessIdentity.killAttempt(marker: Self.marker(runID, name, serial))
                running[instance] = RunningAttempt(serial: serial, outputPath: "", progressPath: "")
                continuation.yield(.attemptEnded(instance: instance, serial: serial, AttemptEnd(.interrupted), outputs: [:]))
            }
            try await apply(self.scheduler!.resume(now: Date()))
        }
        // What parsing and validating the pipeline freed goes back to the system before the
        // run settles in (at 10,000 steps, ~15 MB of resident memory otherwise kept).
        runner_release_free_memory()
        let poller = Task { [weak self] in await self?.pollLoop() }
        defer { poller.cancel() }
        if self.scheduler?.isFinished == false {
            try await withCheckedThrowingContinuation { (finished: CheckedContinuation<Void, any Error>) in
                self.finished = finished
                // From here on, events are handled on the loop's thread as the loop sees them.
                continuation.setConsumer { [self] batch in self.assumeIsolated { $0.process(batch) } }
            }
        }
        try flush()
        for timer in timers.values { timer.cancel() }
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
            do { try writer.drain(id) } catch { throw ExecutorError.store("\(error)") }
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
            if Date().timeIntervalSince(leaseRenewedAt) > options.leaseDuration / 3 {
                _ = try store.renewLease(runID, owner: owner, until: Date().addingTimeInterval(options.leaseDuration))
                leaseRenewedAt = Date()
            }
            try await Task.sleep(nanoseconds: 100_000_000)
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
        let store = self.store, id = self.runID
        do { try await offLoop { try store.apply(changes, to: id) } } catch { throw ExecutorError.store("\(error)") }
        return true
    }

    /// Events that arrived together are handled together and committed together (two steps
    /// ending at once cost one commit, not two).
    func process(_ batch: [RunScheduler.Event]) {
        guard let finished, scheduler != nil else { return }
        let now = Date()
        for event in batch where !self.scheduler!.isFinished {
            stage(self.scheduler!.handle(event, now: now))
        }
        do {
            try commit()
        } catch {
            end(finished, throwing: error)
            return
        }
        if self.scheduler!.isFinished { end(finished, throwing: nil) }
    }

    private func end(_ finished: CheckedContinuation<Void, any Error>, throwing error: (any Error)?) {
        self.finished = nil
        continuation.setConsumer(nil)
        if let error { finished.resume(throwing: error) } else { finished.resume() }
    }

    // MARK: - Applying the scheduler's actions

    func apply(_ actions: [RunScheduler.Action]) async throws {
        stage(actions)
        try commit()
    }

    /// Records what the actions change (in `pending`, read from the scheduler as it is right
    /// after them) and keeps their launches and terminations for `commit`.
    func stage(_ actions: [RunScheduler.Action]) {
        guard let scheduler else { return }
        let now = Date()
        for action in actions {
            switch action {
            case .runStatus(let status, let code, let message, let wake):
                pending.append(.runStatus(status, errorCode: code, message: message, wakeAt: wake, at: now))
                options.observer?(.runStatus(runID, status, errorCode: code, message: message, wakeAt: wake))
            case .stepStatus(let i, let status, let code, let message):
                let instance = scheduler.instances[i]
                pending.append(.stepStatus(instance.name, status, attempts: instance.attempts, serial: instance.serial,
                                           retryAt: instance.retryAt, errorCode: code, message: message, at: now))
                options.observer?(.stepStatus(instance.name, status, attempt: instance.attempts, errorCode: code, message: message, at: now))
            case .launch(let request):
                stagedLaunches.append(request)
            case .terminate(let i, let serial, _):
                stagedTerminations.append((i, serial))
            case .setTimer(let key, let date):
                schedule(key, at: date)
            case .attemptEnded(let i, let serial, let end, let code, let message, let counted):
                let name = scheduler.instances[i].name
                // The last progress line the step wrote, recorded before its end (in the writer:
                // looking for a file the step most likely never wrote is not for the critical path).
                if let attempt = running[i], !attempt.progressPath.isEmpty {
                    let name = scheduler.instances[i].name, observer = options.observer
                    writer.submitDeferred(of: runID) {
                        guard let read = Self.readProgress(attempt), let percent = read.percent else { return [] }
                        observer?(.progress(name, percent: percent, message: read.message))
                        return [.progress(name, percent: percent, message: read.message)]
                    }
                }
                running[i] = nil
                pending.append(.attemptFinished(name, serial: serial, end: end, errorCode: code, message: message, counted: counted, at: now))
                options.observer?(.attemptEnded(name, serial: serial, end, errorCode: code, message: message, at: now))
            case .outputs(let i, let values):
                pending.append(.outputs(scheduler.instances[i].name, values))
            }
        }
    }

    /// Acts on what was staged and stores it in one transaction. Launches are journaled
    /// (one append), then started, then committed with their pids: the commit is off the
    /// critical path from one step's end to the next step's start, and the journal keeps a
    /// launch the runner dies before committing (see `LaunchJournal`).
    func commit() throws {
        var changes = pending
        let launches = stagedLaunches, terminations = stagedTerminations
        pending.removeAll()
        stagedLaunches.removeAll()
        stagedTerminations.removeAll()
        let now = Date()
        do {
            try journal.append(launches.map { LaunchJournal.Entry(name: $0.name, serial: $0.serial, attempt: $0.attempt, at: now) })
        } catch {
            throw ExecutorError.store("\(error)")
        }
        var started: [Int32] = []
        for request in launches {
            let attempt = start(request, now: now)
            if let pid = attempt.pid { started.append(pid) }
            changes.append(.attemptStarted(attempt))
        }
        do {
            try writer.submit(changes, of: runID)
        } catch {
            // Nothing runs unrecorded: what was started is stopped (the journal has it).
            for pid in started { kill(-pid, SIGKILL) }
            for attempt in running.values { if let pid = attempt.pid { kill(-pid, SIGKILL) } }
            throw ExecutorError.store("\(error)")
        }
        for (i, serial) in terminations {
            if let attempt = running[i], attempt.serial == serial, let pid = attempt.pid {
                launcher.terminate(pid, grace: options.killGrace)
            }
        }
    }

    func flush() throws {
        guard !pending.isEmpty else { return }
        let changes = pending
        pending.removeAll()
        try writer.submit(changes, of: runID)
    }

    func schedule(_ key: RunScheduler.TimerKey, at date: Date) {
        timers[key]?.cancel()
        let delay = max(0, date.timeIntervalSinceNow)
        let continuation = self.continuation
        timers[key] = Task {
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            if !Task.isCancelled { continuation.yield(.timer(key)) }
        }
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
        for entry in step.env where !paramNames.contains(entry.name.value) { environment[entry.name.value] = entry.value }
        let masks = secretMasks
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
                               logPath: stem + ".log", masks: masks, echo: echo)
        if plain { spec.shared = sharedEnvironment }
        running[instance] = RunningAttempt(serial: serial, outputPath: outputPath, progressPath: progressPath)
        observer?(.attemptStarted(name, attempt: request.attempt, serial: serial, logPath: spec.logPath, at: now))
        do {
            spec.workingDirectory = try Workdir.confined(workdir, declared: request.policy.workdir, root: pipelineDirectoryPath)
            let pid = try launcher.launch(spec) { exit in
                let outputs = exit.reason == .exited(code: 0) ? Self.readOutputs(outputPath, declared: declared) : [:]
                continuation.yield(.attemptEnded(instance: instance, serial: serial, AttemptEnd(exit.reason, stderrTail: exit.stderrTail),
                                                 outputs: outputs))
            }
            running[instance]?.pid = pid
            attempt.pid = pid
        } catch {
            continuation.yield(.attemptEnded(instance: instance, serial: serial, AttemptEnd(.launchFailed("\(error)")), outputs: [:]))
        }
        return attempt
    }

    func prepareEnvironment(_ pipeline: ValidatedPipeline, _ run: RunRecord) {
        var environment = options.environment
        for entry in pipeline.pipeline.env { environment[entry.name.value] = entry.value }
        environment["RUNNER_PIPELINE_DIR"] = pipelineDirectory.path
        baseEnvironment = environment
        paramEnvironment = []
        secretMasks = []
        for spec in pipeline.pipeline.params {
            guard let text = run.params[spec.name.value]?.environmentText else { continue }
            paramEnvironment.append((spec.environmentName, text))
            if spec.isSecret { secretMasks.append(text) }
            // A gitref param's commit, resolved when the run was created.
            if let ref = run.refs[spec.name.value] { paramEnvironment.append((spec.environmentName + "_SHA", ref.sha)) }
        }
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

    /// Ends a run before any step started (its workspace cannot be made, or it was cancelled
    /// while queued): the run ends `status` with `code`, its steps are skipped, nothing runs.
    func endBeforeStart(_ loaded: StoredRun, status: RunStatus, code: String?, message: String, now: Date) async throws -> StoredRun {
        var loaded = loaded
        if loaded.steps.isEmpty, let full = try await offLoop({ [store, runID] in try store.load(runID) }) { loaded = full }
        var changes: [StoreChange] = loaded.steps.filter { !$0.status.isTerminal }.map {
            .stepStatus($0.name, .skipped, attempts: $0.attempts, serial: $0.serial, retryAt: nil, errorCode: nil,
                        message: "not started: \(message)", at: now)
        }
        changes.append(.runStatus(status, errorCode: code, message: message, wakeAt: nil, at: now))
        let store = self.store, runID = self.runID, finalChanges = changes
        let final = try await offLoop { () throws -> StoredRun? in
            try store.apply(finalChanges, to: runID)
            return try store.load(runID)
        }
        options.observer?(.runStatus(runID, status, errorCode: code, message: message, wakeAt: nil))
        guard let final else { throw ExecutorError.notFound(runID) }
        return final
    }

    /// `key=value` lines of `$RUNNER_OUTPUT`, for the outputs the step declares.
    static func readOutputs(_ path: String, declared: Set<String>) -> [String: String] {
        guard !declared.isEmpty, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var outputs: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals]).trimmingSpaces()
            if declared.contains(key) { outputs[key] = String(line[line.index(after: equals)...]) }
        }
        return outputs
    }

    // MARK: - Polling: progress, cancel requests, lease

    func pollLoop() async {
        let nanos = UInt64(DurationText.milliseconds(options.pollInterval)) * 1_000_000
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: nanos)
            if Task.isCancelled { return }
            poll()
        }
    }

    /// Reads the attempt's progress file when it grew; records a changed last line.
    func recordProgress(of instance: Int) {
        guard let scheduler, let attempt = running[instance], !attempt.progressPath.isEmpty,
              let read = Self.readProgress(attempt) else { return }
        running[instance]?.progressSize = read.size
        guard let percent = read.percent else { return }
        running[instance]?.lastProgress = percent
        running[instance]?.lastProgressMessage = read.message
        let name = scheduler.instances[instance].name
        pending.append(.progress(name, percent: percent, message: read.message))
        options.observer?(.progress(name, percent: percent, message: read.message))
    }

    /// The last line of the attempt's progress file when the file grew: its size, and the
    /// percentage and message when they differ from the last ones recorded.
    static func readProgress(_ attempt: RunningAttempt) -> (size: Int, percent: Int?, message: String?)? {
        var info = stat()
        guard stat(attempt.progressPath, &info) == 0, Int(info.st_size) != attempt.progressSize else { return nil }
        let size = Int(info.st_size)
        guard let text = try? String(contentsOfFile: attempt.progressPath, encoding: .utf8),
              let line = text.split(whereSeparator: \.isNewline).last else { return (size, nil, nil) }
        let parts = line.split(separator: " ", maxSplits: 1)
        guard let value = parts.first.flatMap({ Int($0) }) else { return (size, nil, nil) }
        let percent = min(100, max(0, value))
        let message = parts.count > 1 ? String(parts[1]) : nil
        guard percent != attempt.lastProgress || message != attempt.lastProgressMessage else { return (size, nil, nil) }
        return (size, percent, message)
    }

    func poll() {
        guard let scheduler, !scheduler.isFinished else { return }
        for instance in running.keys { recordProgress(of: instance) }
        let now = Date()
        let renew = now.timeIntervalSince(leaseRenewedAt) > options.leaseDuration / 3
        if renew { leaseRenewedAt = now }
        let checkCancel = !storedCancelSeen, store = self.store, runID = self.runID, owner = self.owner
        let until = now.addingTimeInterval(options.leaseDuration)
        if checkCancel || renew {
            Task.detached { [weak self] in
                if renew { _ = try? store.renewLease(runID, owner: owner, until: until) }
                if checkCancel, (try? store.isCancelRequested(runID)) == true { await self?.storedCancelRequested() }
            }
        }
        try? flush()
    }

    /// The stored request is one cancel, however many polls see it: a second one would also
    /// stop the finally steps (that is what a second Ctrl-C does).
    func storedCancelRequested() {
        guard !storedCancelSeen else { return }
        storedCancelSeen = true
        continuation.yield(.cancel)
    }
}
