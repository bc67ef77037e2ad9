import Foundation
import RunnerCore

/// An `ExecutionLoop` for tests: one thread runs the jobs, deliveries and timers one at a time,
/// as the event loop does, but the timers are on a `ManualClock`, so they fire when the test
/// moves the clock, not after a wait. Jobs run in the order they were enqueued; timers that
/// fall due together run in the order of their due time, then of their scheduling.
public final class FakeLoop: ExecutionLoop, @unchecked Sendable {
    private struct Timer {
        var id: Int
        var at: Monotonic
        var action: @Sendable () -> Void
    }

    private struct Queues {
        var jobs: [UnownedJob] = []
        var deliveries: [any LoopDelivery] = []
        var timers: [Timer] = []
        var due: [Timer] = []
        var lastTimerID = 0
        var isRunning = false

        var isIdle: Bool { jobs.isEmpty && deliveries.isEmpty && due.isEmpty && !isRunning }
    }

    public let clock: ManualClock
    private let condition = Condition()
    private var queues = Queues()
    private var thread: pthread_t?
    /// Whether the loop has nothing to run: `whenIdle` waits on it.
    private let idle = Observed(true)

    public init(clock: ManualClock) {
        self.clock = clock
        clock.onAdvance { [weak self] in self?.clockMoved() }
    }

    public func start() throws {
        condition.lock()
        defer { condition.unlock() }
        guard thread == nil else { return }
        thread = try Threads.start { [unowned self] in self.run() }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        change { $0.jobs.append(job) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(thread.map { Threads.isCurrent($0) } ?? false, "not on the fake loop's thread")
    }

    public func schedule(after seconds: Double, _ action: @escaping @Sendable () -> Void) -> Int {
        let at = clock.monotonic() + max(0, seconds)
        var id = 0
        change { queues in
            queues.lastTimerID += 1
            id = queues.lastTimerID
            queues.timers.append(Timer(id: id, at: at, action: action))
        }
        clockMoved()
        return id
    }

    public func cancelTimer(_ id: Int) {
        change { queues in
            queues.timers.removeAll { $0.id == id }
            queues.due.removeAll { $0.id == id }
        }
    }

    public func deliverSoon(_ delivery: any LoopDelivery) {
        change { $0.deliveries.append(delivery) }
    }

    /// Waits until the loop has run everything queued (what the last `advance` made due
    /// included); false after `timeout` seconds.
    public func whenIdle(timeout: Double = 30) async -> Bool {
        await idle.wait(timeout: timeout) { $0 }
    }

    /// The timers the clock has reached become due, in their order.
    private func clockMoved() {
        let now = clock.monotonic()
        change { queues in
            let due = queues.timers.filter { $0.at <= now }.sorted { ($0.at, $0.id) < ($1.at, $1.id) }
            guard !due.isEmpty else { return }
            queues.timers.removeAll { $0.at <= now }
            queues.due += due
        }
    }

    /// Called with `condition` unlocked. `idle` is updated under it, so that it never says
    /// idle after something was queued.
    private func change(_ body: (inout Queues) -> Void) {
        condition.lock()
        body(&queues)
        let isIdle = queues.isIdle
        idle.update { $0 = isIdle }
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queues.jobs.isEmpty && queues.deliveries.isEmpty && queues.due.isEmpty {
                condition.wait()
            }
            let taken = queues
            queues.jobs.removeAll()
            queues.deliveries.removeAll()
            queues.due.removeAll()
            queues.isRunning = true
            condition.unlock()
            for timer in taken.due { timer.action() }
            for delivery in taken.deliveries { delivery.deliver() }
            for job in taken.jobs { job.runSynchronously(on: asUnownedSerialExecutor()) }
            condition.lock()
            queues.isRunning = false
            let isIdle = queues.isIdle
            idle.update { $0 = isIdle }
            condition.unlock()
        }
    }
}
