import FoundationEssentials
import RunnerCore

/// From a claimed run to a scheduler that has started or restored it.
extension RunExecutor {
    /// The run's secrets revealed, its pipeline (given, or loaded from its definition), the
    /// environment of its attempts and its workspace; throws `EarlyEnd` when one of them is
    /// not available.
    func prepare(_ loaded: inout StoredRun) async throws -> ValidatedPipeline {
        do {
            loaded.run.params = try SecretBox(state: state, environment: options.environment).reveal(loaded.run.params)
        } catch {
            throw EarlyEnd.ends(.failed, code: "SECRET_UNAVAILABLE", message: "\(error)")
        }
        let record = loaded.run
        let pipeline = try await self.pipeline(of: record)
        let directory = URL(fileURLWithPath: record.pipelineFile).deletingLastPathComponent()
        let parts: AttemptEnvironment.Parts
        switch AttemptEnvironment.parts(of: pipeline.pipeline, params: record.params, refs: record.refs,
                                        secretParams: record.secretParams ?? [], runner: options.environment,
                                        pipelineDirectory: directory.path) {
        case .success(let made): parts = made
        case .failure(let missing): throw EarlyEnd.ends(.failed, code: "ENV_UNAVAILABLE", message: "\(missing)")
        }
        let workspace: URL?
        do {
            let git = options.git, state = self.state
            workspace = try await offLoop {
                try GitRefs.prepareWorkspace(pipeline, run: record, state: state, git: git)
            }
        } catch {
            throw EarlyEnd.ends(.failed, code: "WORKSPACE_UNAVAILABLE", message: "\(error)")
        }
        context = LaunchContext(directory: PipelineDirectory(workspace ?? directory),
                                environment: AttemptEnvironment(parts, run: record, workspace: workspace?.path,
                                                                runner: options.environment),
                                masker: SecretMasker(parts.secrets))
        return pipeline
    }

    /// The pipeline the caller gave, or the run's stored definition loaded.
    private func pipeline(of run: RunRecord) async throws -> ValidatedPipeline {
        if let given = options.pipeline { return given }
        switch try await offLoop({ StoredDefinition.load(run) }) {
        case .success(let pipeline): return pipeline
        case .failure(let unloadable): throw EarlyEnd.unloadable(unloadable.diagnostics)
        }
    }

    /// The scheduler of the run. Kept only in `self.scheduler`: a second copy alive elsewhere
    /// would make the first change of each of its arrays copy it (at 10,000 steps, megabytes).
    func makeScheduler(_ pipeline: ValidatedPipeline, _ run: RunRecord) {
        let configuration = RunScheduler.Configuration(parallelism: options.parallelism ?? run.parallelism,
                                                       seed: UInt64(truncatingIfNeeded: runID.rawValue.hashValue))
        scheduler = RunScheduler(pipeline: pipeline, params: run.params, environment: options.environment,
                                 configuration: configuration)
    }

    /// A fresh run waits for its concurrency group, and does not start when it was cancelled
    /// meanwhile. A run taken over (not just created here) may have been asked to cancel
    /// (`runs cancel` of a run nobody executed): nothing of its main DAG starts then.
    func checkBeforeStart(_ loaded: StoredRun, _ pipeline: ValidatedPipeline) async throws {
        let isFresh = loaded.isFresh
        if isFresh, try await !waitForGroup(loaded.run, pipeline) {
            throw EarlyEnd.ends(.cancelled, code: nil, message: "cancelled while waiting for its concurrency group")
        }
        guard !isFresh || options.created == nil,
              try await offLoop({ [store, runID] in try store.isCancelRequested(runID) }) else { return }
        if isFresh { throw EarlyEnd.ends(.cancelled, code: nil, message: "cancelled before it started") }
        storedCancelSeen = true
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
                if policy.onConflict == .cancelRunning { _ = try store.requestCancel(ahead.id, at: clock.now()) }
            }
            if RunService.isOrphan(ahead, now: clock.now()), let finish = options.finishOrphan {
                await finish(ahead.id)
            }
            try renewLeaseIfDue()
            await sleep(0.1)
        }
        return true
    }

    /// Starts a fresh run's scheduler, or restores a run a runner left: what that runner had
    /// in flight is killed (found by its marker) and ends as interrupted, and a cancel stored
    /// meanwhile is carried out. The run's steps and definition are dropped from `loaded`
    /// first: from here the scheduler holds the run.
    func startOrRestore(_ loaded: inout StoredRun) async throws {
        let isFresh = loaded.isFresh, steps = loaded.steps
        loaded = StoredRun(run: loaded.run, steps: [], attempts: [])
        loaded.run.definition = ""
        if isFresh {
            if let actions = scheduler?.start(now: steady.now()) { try await apply(actions) }
            return
        }
        let run = loaded.run
        guard let restored = try scheduler?.restore(runStatus: run.status, errorCode: run.errorCode,
                                                    errorMessage: run.errorMessage,
                                                    steps: steps.map(Self.storedInstance), now: steady.now()) else {
            return
        }
        try await apply(restored.actions)
        for (instance, serial) in restored.inFlight {
            guard let name = scheduler?.instances[instance].name else { continue }
            launcher.killAbandoned(marker: Self.marker(runID, name, serial))
            running[instance] = RunningAttempt(serial: serial, outputPath: "", progressPath: "")
            let interrupted = AttemptEnd(.interrupted)
            inbox.yield(.scheduler(.attemptEnded(instance: instance, serial: serial, interrupted, outputs: [:])))
        }
        if storedCancelSeen, let actions = scheduler?.handle(.cancel, now: steady.now()) { stage(actions) }
        if let actions = scheduler?.resume(now: steady.now()) { try await apply(actions) }
    }

    static func storedInstance(_ step: StepRecord) -> RunScheduler.StoredInstance {
        RunScheduler.StoredInstance(name: step.name, status: step.status, attempts: step.attempts, serial: step.serial,
                                    retryAt: step.retryAt, errorCode: step.errorCode, errorMessage: step.errorMessage,
                                    outputs: step.outputs)
    }

    /// Attempts the launch journal has but the store does not (the runner died between a
    /// launch and its commit): whatever is left of them is killed, and they are recorded as
    /// interrupted; the run is then read back.
    func recordLostAttempts(of run: inout StoredRun) async throws {
        let recorded = Set(run.attempts.map { "\($0.serial) \($0.step.rawValue)" })
        let lost = LaunchJournal.read(logFolder.journal.path).filter {
            !recorded.contains("\($0.serial) \($0.name.rawValue)")
        }
        guard !lost.isEmpty else { return }
        for entry in lost { launcher.killAbandoned(marker: Self.marker(runID, entry.name, entry.serial)) }
        let now = clock.now()
        let changes: [StoreChange] = lost.map { entry in
            var attempt = AttemptRecord(step: entry.name, serial: entry.serial, attempt: entry.attempt,
                                        startedAt: entry.at)
            attempt.finishedAt = now
            attempt.counted = false
            attempt.errorCode = "RUNNER_INTERRUPTED"
            attempt.message = ErrorClassifier.describe(AttemptEnd(.interrupted))
            attempt.logPath = state.logPath(run: runID, step: entry.name, serial: entry.serial)
            return .lostAttempt(attempt)
        }
        run = try await storeAndReload(changes)
    }
}
