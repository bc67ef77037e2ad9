import CProcess
import FoundationEssentials
import RunnerCore

/// Runs one stored run to its end: drives the scheduler, starts and stops processes through
/// its launcher, records every change durably, heartbeats its lease, and resumes a run a dead
/// runner left behind.
///
/// An execution goes: claim the run (`RunStartup`), prepare it (its secrets, its pipeline,
/// its environment, its workspace), record what a dead runner left unrecorded, wait for its
/// concurrency group, start or restore the scheduler, then handle events on the loop until the
/// run is finished, and read the final run back. A run that cannot execute ends early
/// (`EarlyEnd`), recorded with why.
public actor RunExecutor {
    let store: RunStore
    let launcher: ProcessLauncher
    let state: StateDirectory
    let options: Options
    public let runID: RunID
    let owner = ProcessIdentity.current
    /// The wall clock of what is recorded, the monotonic clock of what is measured.
    let clock: any Clock
    /// The scheduler's clock: the wall time at the executor's start moved on by the monotonic
    /// clock.
    let steady: SteadyClock
    /// Stores the changes, beside the steps (see `StoreWriter`).
    lazy var writer = StoreWriter.shared(for: store, patience: options.storePatience, clock: clock)
    /// This executor's claim of the run (every write checks it: see `Lease`) and its renewals.
    var heartbeat: LeaseHeartbeat?
    var scheduler: RunScheduler?
    /// What the run's launches need, made once the run is prepared.
    var context: LaunchContext?
    /// Workdirs as `confinedWorkdir` resolved them.
    var resolvedWorkdirs: [String: String] = [:]
    var running: [Int: RunningAttempt] = [:]
    var staged = StagedWork()
    var timers = LoopTimers()
    var logFolder = RunLogFolder()
    var storedCancelSeen = false
    /// Resumed when the scheduler says the run is finished (or the run must stop).
    var finished: CheckedContinuation<Void, any Error>?
    nonisolated let inbox: EventInbox<Input>

    /// What reaches the executor on its loop: the scheduler's events and the writer's word.
    enum Input: Sendable {
        case scheduler(RunScheduler.Event)
        case store(StoreWriter.Signal)
    }

    /// The thread this actor runs on: its launcher's loop, where the steps' exits are seen, so
    /// an exit is handled and the next step started without changing threads. What may block
    /// for long (the store's loads, a checkout) runs elsewhere (`offLoop`).
    nonisolated let loop: any ExecutionLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    public init(run: RunID, store: RunStore, launcher: ProcessLauncher, state: StateDirectory, options: Options) {
        self.runID = run
        self.store = store
        self.launcher = launcher
        self.state = state
        self.options = options
        clock = options.clock
        steady = SteadyClock(options.clock)
        loop = launcher.executionLoop
        inbox = EventInbox(loop: loop)
    }

    /// Runs `body` off the event loop (other runs' steps are served meanwhile).
    nonisolated func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Task.detached { try body() }.value
    }

    /// Asks the run to stop: running steps are terminated, finally steps still run.
    public nonisolated func cancel() {
        inbox.yield(.scheduler(.cancel))
    }

    /// Executes (or resumes) the run until it is finished; returns what was stored.
    public nonisolated func execute() async throws -> StoredRun {
        // The loop's thread, before the first job of this actor needs it.
        try loop.start()
        return try await executeOnLoop()
    }

    private func executeOnLoop() async throws -> StoredRun {
        let claimedAt = clock.monotonic()
        var (loaded, lease) = try await claim()
        defer { try? store.releaseLease(lease) }
        // Declared after the lease's release, so it runs before it: all is stored first.
        defer { writer.finish(runID) }
        let inbox = self.inbox
        writer.register(lease, leaseDuration: options.leaseDuration, confirmedAt: claimedAt) { inbox.yield(.store($0)) }
        heartbeat = LeaseHeartbeat(lease, duration: options.leaseDuration, confirmedAt: claimedAt)
        defer { logFolder.journal.close() }
        do {
            let pipeline = try await prepare(&loaded)
            logFolder.journal = LaunchJournal(path: LaunchJournal.path(state, runID))
            try await recordLostAttempts(of: &loaded)
            makeScheduler(pipeline, loaded.run)
            try await checkBeforeStart(loaded, pipeline)
            try await startOrRestore(&loaded)
        } catch let early as EarlyEnd {
            return try await end(loaded, early)
        }
        // What parsing and validating the pipeline freed goes back to the system before the
        // run settles in (otherwise it stays resident until the run ends).
        runner_release_free_memory()
        try await runToTheEnd()
        return try await finalRun()
    }

    /// Claims the run (see `RunStartup`), or says why it cannot be executed here.
    private func claim() async throws -> (StoredRun, Lease) {
        let now = clock.now()
        let request = RunStartup.Request(run: runID, owner: owner, created: options.created,
                                         needsDefinition: options.pipeline == nil, now: now,
                                         leaseUntil: now.addingTimeInterval(options.leaseDuration))
        let store = self.store, state = self.state
        switch try await offLoop({ try RunStartup.claim(request, store: store, state: state) }) {
        case .notFound: throw ExecutorError.notFound(runID)
        case .finished(let status): throw ExecutorError.finished(runID, status)
        case .busy: throw ExecutorError.busy(runID, owner: (try? store.load(runID))?.run.owner ?? "?")
        case .ready(let run, let lease): return (run, lease)
        }
    }

    /// Handles events on the loop's thread as the loop sees them until the run is finished;
    /// then the timers are gone and what is left to record is submitted.
    private func runToTheEnd() async throws {
        schedulePoll()
        defer {
            if let poll = timers.poll { loop.cancelTimer(poll) }
            timers.poll = nil
        }
        if scheduler?.isFinished == false {
            try await withCheckedThrowingContinuation { (finished: CheckedContinuation<Void, any Error>) in
                self.finished = finished
                inbox.setConsumer { [self] batch in self.assumeIsolated { $0.process(batch) } }
            }
        }
        try flush()
        for timer in timers.scheduler.values { loop.cancelTimer(timer) }
        timers.scheduler.removeAll()
    }

    /// All that is left of the run goes to the store, then the final run is read back. The
    /// in-memory copy is dropped first (at 10,000 steps it and the final one at once were the
    /// process's peak memory). A caller that gave the parsed pipeline has no use for the
    /// definition's text.
    private func finalRun() async throws -> StoredRun {
        scheduler = nil
        context = nil
        return try await storeAndReload([], definition: options.pipeline == nil) { runner_release_free_memory() }
    }

    /// Stores `changes`, waits until all of the run is stored, and reads the run back, in one
    /// trip off the loop (`beforeLoading` runs there too, between the two).
    func storeAndReload(_ changes: [StoreChange], definition: Bool = true,
                        beforeLoading: @escaping @Sendable () -> Void = {}) async throws -> StoredRun {
        let writer = self.writer, id = runID, store = self.store
        let loaded = try await offLoop { () throws -> StoredRun? in
            do {
                try writer.submit(changes, of: id)
                try writer.drain(id)
            } catch {
                throw Self.executorError(error, id)
            }
            beforeLoading()
            return try store.load(id, definition: definition)
        }
        guard let loaded else { throw ExecutorError.notFound(runID) }
        return loaded
    }

    /// `RUNNER_ATTEMPT_ID`: finds an attempt's processes again after the runner died.
    static func marker(_ run: RunID, _ step: StepName, _ serial: Int) -> String {
        "\(run.rawValue)/\(step.rawValue)/\(serial)"
    }
}
