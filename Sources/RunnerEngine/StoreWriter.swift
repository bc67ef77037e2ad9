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
/// for twenty (the same few pages are written to the WAL); committing every step was most of
/// the runner's own CPU on a DAG of quick steps, taken from the steps on a busy machine.
/// One thread for all runs: a server with 200 runs in flight had 200 writer threads.
final class StoreWriter: @unchecked Sendable {
    /// 25 ms, not 10: W3 (1,000 steps, 2 cores busy) 708 → 685 ms, W2 likewise, in alternating
    /// rounds; 50 ms gained only 5 ms more and widens what a crash makes run again.
    static let interval: TimeInterval = 0.025

    enum Item {
        case change(StoreChange)
        /// Made on the writer's thread, just before it is stored (e.g. a file to read).
        case deferred(@Sendable () -> [StoreChange])
    }

    private let store: RunStore
    private let condition = Condition()
    private var queue: [(run: RunID, item: Item)] = []
    /// Items of each run queued or being written.
    private var pending: [RunID: Int] = [:]
    /// A run whose write failed: nothing more of it is stored; its executor stops the run.
    private var failures: [RunID: any Error] = [:]
    private var running = false
    private var waiting = 0
    /// The writer waits for work (not for the end of the interval): only then does a
    /// submission wake it (a wake-up per submission was one per step, to no purpose).
    private var idle = false
    private var lastCommit = Date.distantPast

    private final class Weak: @unchecked Sendable {
        weak var writer: StoreWriter?
        init(_ writer: StoreWriter) { self.writer = writer }
    }
    private static let registryLock = Lock()
    nonisolated(unsafe) private static var writers: [ObjectIdentifier: Weak] = [:]

    /// The writer of `store` (made on first use; gone once no executor holds it and its thread,
    /// idle for a second, ended).
    static func shared(for store: RunStore) -> StoreWriter {
        let key = ObjectIdentifier(store as AnyObject)
        registryLock.lock()
        defer { registryLock.unlock() }
        if let writer = writers[key]?.writer { return writer }
        let writer = StoreWriter(store: store)
        writers = writers.filter { $0.value.writer != nil }
        writers[key] = Weak(writer)
        return writer
    }

    init(store: RunStore) {
        self.store = store
    }

    /// Queues a run's changes to be stored; the first failure of an earlier write of the run is
    /// thrown here.
    func submit(_ changes: [StoreChange], of run: RunID) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure = failures[run] { throw failure }
        guard !changes.isEmpty else { return }
        for change in changes { queue.append((run, .change(change))) }
        pending[run, default: 0] += changes.count
        startAndSignal()
    }

    /// Queues a run's changes made later, on the writer's thread, in their turn.
    func submitDeferred(of run: RunID, _ make: @escaping @Sendable () -> [StoreChange]) {
        condition.lock()
        defer { condition.unlock() }
        guard failures[run] == nil else { return }
        queue.append((run, .deferred(make)))
        pending[run, default: 0] += 1
        startAndSignal()
    }

    /// Called with the lock held.
    private func startAndSignal() {
        if !running {
            running = true
            Threads.start(stackSize: 256 << 10) { self.loop() }  // the writer lives while its thread does
        }
        if idle { condition.signal() }
    }

    /// Waits until everything submitted of `run` is stored; throws the run's first failure.
    func drain(_ run: RunID) throws {
        condition.lock()
        defer { condition.unlock() }
        waiting += 1
        defer { waiting -= 1 }
        condition.broadcast()
        while (pending[run] ?? 0) > 0 && failures[run] == nil { condition.wait() }
        if let failure = failures[run] { throw failure }
    }

    /// Stores what is queued of `run` and forgets the run.
    func finish(_ run: RunID) {
        try? drain(run)
        condition.lock()
        failures[run] = nil
        pending[run] = nil
        condition.unlock()
    }

    private func loop() {
        runner_name_thread("runner-store")
        condition.lock()
        while true {
            idle = true
            while queue.isEmpty {
                // Idle for a second: the thread ends (the next submission starts another).
                if !condition.wait(until: Date().addingTimeInterval(1)) && queue.isEmpty && waiting == 0 {
                    idle = false
                    running = false
                    condition.unlock()
                    return
                }
            }
            idle = false
            // What comes in before the interval is over joins this batch.
            let due = lastCommit.addingTimeInterval(Self.interval)
            while waiting == 0 && Date() < due { _ = condition.wait(until: due) }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let failed = failures
            condition.unlock()
            // Each run's changes in order, a transaction per run; a run that failed stores nothing more.
            var written: [RunID: Int] = [:]
            var errors: [RunID: any Error] = [:]
            var start = 0
            while start < batch.count {
                let run = batch[start].run
                var end = start
                var changes: [StoreChange] = []
                while end < batch.count && batch[end].run == run {
                    switch batch[end].item {
                    case .change(let change): changes.append(change)
                    case .deferred(let make): changes.append(contentsOf: make())
                    }
                    end += 1
                }
                written[run, default: 0] += end - start
                if failed[run] == nil && errors[run] == nil {
                    do { try store.apply(changes, to: run) } catch { errors[run] = error }
                }
                start = end
            }
            condition.lock()
            lastCommit = Date()
            for (run, count) in written where pending[run] != nil { pending[run]! -= count }
            for (run, error) in errors where failures[run] == nil { failures[run] = error }
            condition.broadcast()
        }
    }
}
