import CProcess
import FoundationEssentials
import RunnerCore

/// Stores the runs' changes on a thread of its own (one per store, shared by every run of the
/// process), each run's in the order they were submitted; what arrived while a transaction was
/// being written goes into the next one, together.
///
/// Why a thread: the executor starts a step, then records it. Recording on the executor's own
/// thread kept the new process waiting behind it on the same core (the process was just made
/// there); here the executor goes back to waiting for the next event at once and the commit
/// runs beside the step. Nothing is lost by it: a launch is in the launch journal before the
/// process starts, changes are stored in order (a step's success never after a success that
/// followed from it), and a change not yet stored when the runner dies is one of an attempt
/// that was still in flight, which a resume runs again (DESIGN.md, at least once).
///
/// Group commit: a batch follows the previous one by at least `interval` (25 ms) unless
/// someone waits for it (`drain`, the end of a run). A commit costs the same for one step as
/// for twenty (the same few pages are written to the WAL).
///
/// A store that fails with a transient error (another process holds the database, the disk
/// is full) is tried again every `retryInterval`, the changes kept in order, for at most `patience`;
/// then the runs whose changes are waiting fail with `StoreUnavailable`. Any other failure,
/// `LeaseLost` among them, fails the run at once. Every transaction of a run executed under a
/// lease checks and extends that lease first (fencing). Meanwhile `canLaunch` tells the
/// executor to start nothing: launches wait while the run's changes lag behind (the store is
/// not recording) or its lease has not been confirmed recently (docs/DECISIONS.md).
final class StoreWriter: @unchecked Sendable {
    static let interval: TimeInterval = 0.025
    /// How long launches may run ahead of what is recorded: a run's oldest change not yet
    /// stored older than this holds its launches.
    static let maxLag: Double = 1
    /// The wait between tries of a store that failed transiently: short, so that a store that
    /// is back is seen at once (its health, `/healthz`, is set by the writer's transactions).
    static let retryInterval = 0.05

    enum Item {
        case change(StoreChange)
        /// Made on the writer's thread, just before it is stored (e.g. a file to read); made
        /// again if its transaction has to be tried again.
        case deferred(@Sendable () -> [StoreChange])
        /// Nothing to store: a transaction that only checks and extends the run's lease.
        case renewal
    }

    /// What the writer tells a run's executor, on the writer's thread.
    enum Signal: Sendable {
        /// `canLaunch` said no; it would say yes now.
        case ready
        /// The store fails transiently: the run's changes wait (this is why).
        case waiting(String)
        /// The store records again after `waiting`.
        case recovered
        /// Nothing more of the run is stored; the executor must stop it.
        case failed(any Error)
    }

    /// A queued item: whose, what, and when it was submitted (on the writer's clock).
    typealias Queued = (run: RunID, item: Item, at: Monotonic)
    /// What to tell an executor, told once the lock is released.
    private typealias Notice = (notify: @Sendable (Signal) -> Void, signal: Signal)

    struct RunState {
        var lease: Lease?
        var leaseDuration: Double = 15
        var notify: (@Sendable (Signal) -> Void)?
        /// Items queued or being written.
        var pending = 0
        /// When the oldest item not yet stored was submitted.
        var oldestUnstored: Monotonic?
        /// When the last transaction that extended the lease began.
        var confirmedAt: Monotonic?
        var failure: (any Error)?
        /// `canLaunch` said no: say `ready` once it would say yes.
        var wantsReady = false
        var renewalQueued = false
        /// Told `waiting`, not yet `recovered`.
        var toldWaiting = false
    }

    let store: RunStore
    /// How long a transiently failing store is tried again before its runs are failed.
    let patience: Double
    /// What the writer decides by (how long a change has waited, since when the store fails,
    /// when the lease was confirmed, until when it is extended). Its thread's own pacing, the
    /// group commit's interval and the wait between tries, is real time.
    let clock: any Clock
    private let condition = Condition()
    private var queue: [Queued] = []
    private var runs: [RunID: RunState] = [:]
    private var running = false
    private var waiting = 0
    /// The writer waits for work (not for the end of the interval): only then does a
    /// submission wake it (a wake-up per submission was one per step, to no purpose).
    private var idle = false
    private var lastCommit = Monotonic(seconds: 0)
    /// Since when writes have failed transiently (nil while they succeed).
    private var failingSince: Monotonic?

    private final class Weak: @unchecked Sendable {
        weak var writer: StoreWriter?
        init(_ writer: StoreWriter) { self.writer = writer }
    }
    private static let registryLock = Lock()
    nonisolated(unsafe) private static var writers: [ObjectIdentifier: Weak] = [:]

    /// The writer of `store` (made on first use; gone once no executor holds it and its thread,
    /// idle for a second, ended).
    static func shared(for store: RunStore, patience: Double, clock: any Clock) -> StoreWriter {
        let key = ObjectIdentifier(store as AnyObject)
        registryLock.lock()
        defer { registryLock.unlock() }
        if let writer = writers[key]?.writer { return writer }
        let writer = StoreWriter(store: store, patience: patience, clock: clock)
        writers = writers.filter { $0.value.writer != nil }
        writers[key] = Weak(writer)
        return writer
    }

    init(store: RunStore, patience: Double = 60, clock: any Clock = SystemClock()) {
        self.store = store
        self.patience = patience
        self.clock = clock
    }

    /// From now on the run's transactions are fenced by `lease` (checked, and extended by
    /// `leaseDuration` from the transaction's start), and `notify` hears about it.
    func register(_ lease: Lease, leaseDuration: Double, confirmedAt: Monotonic,
                  notify: @escaping @Sendable (Signal) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        runs[lease.run, default: RunState()].lease = lease
        runs[lease.run]?.leaseDuration = leaseDuration
        runs[lease.run]?.confirmedAt = confirmedAt
        runs[lease.run]?.notify = notify
    }

    /// Queues a run's changes to be stored; the run's failure, if a write of it failed, is
    /// thrown here.
    func submit(_ changes: [StoreChange], of run: RunID) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure = runs[run]?.failure { throw failure }
        guard !changes.isEmpty else { return }
        let now = clock.monotonic()
        for change in changes { queue.append((run, .change(change), now)) }
        added(changes.count, of: run, at: now)
        startAndSignal()
        if let failure = runs[run]?.failure { throw failure }
    }

    /// Queues a run's changes made later, on the writer's thread, in their turn.
    func submitDeferred(of run: RunID, _ make: @escaping @Sendable () -> [StoreChange]) {
        condition.lock()
        defer { condition.unlock() }
        guard runs[run]?.failure == nil else { return }
        let now = clock.monotonic()
        queue.append((run, .deferred(make), now))
        added(1, of: run, at: now)
        startAndSignal()
    }

    /// Queues a renewal of the run's lease, unless one is queued already.
    func renew(_ run: RunID) {
        condition.lock()
        defer { condition.unlock() }
        queueRenewal(run)
    }

    /// Called with the lock held.
    private func queueRenewal(_ run: RunID) {
        guard let state = runs[run], state.lease != nil, state.failure == nil, !state.renewalQueued else { return }
        let now = clock.monotonic()
        queue.append((run, .renewal, now))
        runs[run]?.renewalQueued = true
        added(1, of: run, at: now)
        startAndSignal()
    }

    /// Called with the lock held.
    private func added(_ count: Int, of run: RunID, at now: Monotonic) {
        var state = runs[run] ?? RunState()
        if state.pending == 0 { state.oldestUnstored = now }
        state.pending += count
        runs[run] = state
    }

    /// Whether the run may start a process now: its changes are being stored (none waits
    /// longer than `maxLag`) and its lease was confirmed within two thirds of its duration.
    /// When not, the run is told `ready` once it may (a renewal is queued if the lease is what
    /// is missing), or `failed`.
    func canLaunch(_ run: RunID) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let state = runs[run] else { return true }
        if state.failure != nil { return false }
        let now = clock.monotonic()
        let ok = isReady(state, now: now)
        if !ok {
            runs[run]?.wantsReady = true
            let isConfirmed = state.confirmedAt.map { now - $0 < state.leaseDuration * 2 / 3 } ?? false
            if !isConfirmed { queueRenewal(run) }
        }
        return ok && runs[run]?.failure == nil
    }

    private func isReady(_ state: RunState, now: Monotonic) -> Bool {
        if failingSince != nil && state.pending > 0 { return false }
        if let oldest = state.oldestUnstored, now - oldest > Self.maxLag { return false }
        guard state.lease != nil else { return true }
        guard let confirmed = state.confirmedAt else { return false }
        return now - confirmed < state.leaseDuration * 2 / 3
    }

    /// Called with the lock held: the writer's thread started if it is not running (the
    /// writer lives while its thread does), or woken if it waits for work. Without a thread
    /// nothing can be stored: the runs with changes queued fail with why.
    private func startAndSignal() {
        if !running {
            do {
                try Threads.start(stackSize: 256 << 10) { self.loop() }
                running = true
            } catch {
                var notices: [Notice] = []
                for run in Set(queue.map(\.run)) { fail(run, error, &notices) }
                // An executor's inbox only queues what it is told: safe under this lock.
                for notice in notices { notice.notify(notice.signal) }
                return
            }
        }
        if idle { condition.signal() }
    }

    /// Waits until everything submitted of `run` is stored; throws the run's failure.
    func drain(_ run: RunID) throws {
        condition.lock()
        defer { condition.unlock() }
        waiting += 1
        defer { waiting -= 1 }
        condition.broadcast()
        while (runs[run]?.pending ?? 0) > 0 && runs[run]?.failure == nil { condition.wait() }
        if let failure = runs[run]?.failure { throw failure }
    }

    /// Stores what is queued of `run` and forgets the run.
    func finish(_ run: RunID) {
        try? drain(run)
        condition.lock()
        runs[run] = nil
        queue.removeAll { $0.run == run }
        condition.unlock()
    }

    private func loop() {
        runner_name_thread("runner-store")
        condition.lock()
        while waitForWork() {
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let states = runs
            condition.unlock()
            let outcome = write(batch, states)
            condition.lock()
            let notices = settle(outcome, batch)
            condition.broadcast()
            if !notices.isEmpty {
                condition.unlock()
                for notice in notices { notice.notify(notice.signal) }
                condition.lock()
            }
            // Wait before trying again (new submissions do not cut it short).
            if outcome.transient != nil { _ = condition.wait(until: Monotonic.now() + Self.retryInterval) }
        }
        condition.unlock()
    }

    /// Called with the lock held: waits for work, then until the group commit's interval is
    /// over (what comes in meanwhile joins the batch). False when the writer was idle for a
    /// second: its thread ends (the next submission starts another).
    private func waitForWork() -> Bool {
        idle = true
        while queue.isEmpty {
            if !condition.wait(seconds: 1) && queue.isEmpty && waiting == 0 {
                idle = false
                running = false
                return false
            }
        }
        idle = false
        let due = lastCommit + Self.interval
        while waiting == 0 && Monotonic.now() < due { _ = condition.wait(until: due) }
        return true
    }

    /// Called with the lock held, after a batch was written (as far as it could be): counts
    /// what was stored, puts back what a transient failure left, gives up on a store that has
    /// failed for longer than `patience`. Returns what to tell whom.
    private func settle(_ outcome: Outcome, _ batch: [Queued]) -> [Notice] {
        let now = clock.monotonic()
        lastCommit = Monotonic.now()
        var notices: [Notice] = []
        for entry in batch[..<outcome.written] {
            runs[entry.run]?.pending -= 1
            if case .renewal = entry.item { runs[entry.run]?.renewalQueued = false }
        }
        for (run, began) in outcome.confirmed { runs[run]?.confirmedAt = began }
        for (run, error) in outcome.failed { fail(run, error, &notices) }
        if let error = outcome.transient {
            queue.insert(contentsOf: batch[outcome.written...], at: 0)
            failedTransiently(error, now: now, &notices)
        } else {
            recovered(&notices)
        }
        readyRuns(now: now, &notices)
        return notices
    }

    /// Called with the lock held: the runs whose changes wait are told why; once the store
    /// has failed for longer than `patience`, they fail.
    private func failedTransiently(_ error: any Error, now: Monotonic, _ notices: inout [Notice]) {
        let since = failingSince ?? now
        failingSince = since
        for run in Set(queue.map(\.run)) where runs[run]?.toldWaiting == false {
            runs[run]?.toldWaiting = true
            if let notify = runs[run]?.notify { notices.append((notify, .waiting("\(error)"))) }
        }
        guard now - since > patience else { return }
        let gaveUp = StoreUnavailable(message: "\(error)", waited: now - since)
        for run in Set(queue.map(\.run)) { fail(run, gaveUp, &notices) }
        failingSince = nil
    }

    /// Called with the lock held: the store recorded; the runs told it was failing hear so.
    private func recovered(_ notices: inout [Notice]) {
        failingSince = nil
        for (run, state) in runs where state.toldWaiting {
            runs[run]?.toldWaiting = false
            if let notify = state.notify { notices.append((notify, .recovered)) }
        }
    }

    /// Called with the lock held: each run's oldest item not yet stored, and the runs waiting
    /// to launch that now may.
    private func readyRuns(now: Monotonic, _ notices: inout [Notice]) {
        var oldest: [RunID: Monotonic] = [:]
        for entry in queue where oldest[entry.run] == nil { oldest[entry.run] = entry.at }
        for (run, state) in runs {
            runs[run]?.oldestUnstored = state.pending > 0 ? (oldest[run] ?? state.oldestUnstored) : nil
            guard state.wantsReady, state.failure == nil, let updated = runs[run], isReady(updated, now: now),
                  let notify = state.notify else { continue }
            runs[run]?.wantsReady = false
            notices.append((notify, .ready))
        }
    }

    /// Called with the lock held: nothing more of the run is stored.
    private func fail(_ run: RunID, _ error: any Error, _ notices: inout [Notice]) {
        guard runs[run]?.failure == nil else { return }
        runs[run, default: RunState()].failure = error
        let dropped = queue.filter { $0.run == run }.count
        queue.removeAll { $0.run == run }
        runs[run]?.pending -= dropped
        if let notify = runs[run]?.notify { notices.append((notify, .failed(error))) }
    }
}
