import CProcess
import Foundation
import RunnerCore

/// Stores a run's changes on a thread of its own, in the order they were submitted; what
/// arrived while a transaction was being written goes into the next one, together.
///
/// Why a thread: the executor starts a step, then records it. Recording on the executor's own
/// thread kept the new process waiting behind it on the same core (the process was just made
/// there); here the executor goes back to waiting for the next event at once and the commit
/// runs beside the step. Nothing is lost by it: a launch is in the launch journal before the
/// process starts, changes are stored in order (a step's success never after a success that
/// followed from it), and a change not yet stored when the runner dies is one of an attempt
/// that was still in flight, which a resume runs again (DESIGN.md, at least once).
///
/// Group commit: a transaction follows the previous one by at least `interval` (10 ms) unless
/// someone waits for it (`drain`, the end of the run). A commit costs the same for one step as
/// for twenty (the same few pages are written to the WAL); committing every step was most of
/// the runner's own CPU on a DAG of quick steps, taken from the steps on a busy machine.
final class StoreWriter: @unchecked Sendable {
    static let interval: TimeInterval = 0.010
    private let store: RunStore
    private let run: RunID
    private let condition = NSCondition()
    enum Item {
        case change(StoreChange)
        /// Made on the writer's thread, just before it is stored (e.g. a file to read).
        case deferred(@Sendable () -> [StoreChange])
    }

    private var queue: [Item] = []
    private var writing = false
    private var stopped = false
    private var failure: (any Error)?
    private var thread: Thread?
    private var waiting = 0
    /// The writer waits for work (not for the end of the interval): only then does a
    /// submission wake it (a wake-up per submission was one per step, to no purpose).
    private var idle = false
    private var lastCommit = Date.distantPast

    init(store: RunStore, run: RunID) {
        self.store = store
        self.run = run
    }

    /// Queues changes to be stored; the first failure of an earlier write is thrown here.
    func submit(_ changes: [StoreChange]) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        guard !changes.isEmpty else { return }
        for change in changes { queue.append(.change(change)) }
        startAndSignal()
    }

    /// Queues changes made later, on the writer's thread, in their turn.
    func submitDeferred(_ make: @escaping @Sendable () -> [StoreChange]) {
        condition.lock()
        defer { condition.unlock() }
        guard failure == nil else { return }
        queue.append(.deferred(make))
        startAndSignal()
    }

    /// Called with the lock held.
    private func startAndSignal() {
        if thread == nil {
            let t = Thread { [unowned self] in self.loop() }
            t.stackSize = 256 << 10
            thread = t
            t.start()
        }
        if idle { condition.signal() }
    }

    /// Waits until everything submitted is stored; throws the first failure.
    func drain() throws {
        condition.lock()
        defer { condition.unlock() }
        waiting += 1
        defer { waiting -= 1 }
        condition.broadcast()
        while (!queue.isEmpty || writing) && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// Stores what is queued, then ends the thread.
    func stop() {
        try? drain()
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        runner_name_thread("runner-store")
        condition.lock()
        while true {
            idle = true
            while queue.isEmpty && !stopped { condition.wait() }
            idle = false
            if queue.isEmpty { break }
            // What comes in before the interval is over joins this transaction.
            let due = lastCommit.addingTimeInterval(Self.interval)
            while waiting == 0 && !stopped && Date() < due { _ = condition.wait(until: due) }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            writing = true
            condition.unlock()
            var error: (any Error)?
            // After a failure nothing more is stored: the executor stops the run at its next step.
            if failure == nil {
                var changes: [StoreChange] = []
                changes.reserveCapacity(batch.count)
                for item in batch {
                    switch item {
                    case .change(let change): changes.append(change)
                    case .deferred(let make): changes.append(contentsOf: make())
                    }
                }
                do { try store.apply(changes, to: run) } catch let e { error = e }
            }
            condition.lock()
            lastCommit = Date()
            writing = false
            if let error, failure == nil { failure = error }
            condition.broadcast()
        }
        thread = nil
        condition.unlock()
    }
}
