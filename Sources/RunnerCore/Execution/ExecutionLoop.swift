/// Something a loop hands over on its own thread (an executor's inbox of events).
public protocol LoopDelivery: AnyObject, Sendable {
    func deliver()
}

/// The one thread a run's executor runs on, as its launcher provides it: a serial executor
/// (the executor actor's jobs run on it), timers, and deliveries between two jobs. The
/// launcher's loop is also where it sees its processes end, so an exit is handled and the next
/// step started without a hand-off to another thread (docs/DECISIONS.md, Executor).
///
/// Contract: jobs, timer actions and deliveries run one at a time on the loop's thread, jobs
/// in the order they were enqueued; a timer's action runs once its delay has passed on the
/// loop's clock (the monotonic clock, or a test's clock moved by hand), never earlier, and
/// never after `cancelTimer`.
public protocol ExecutionLoop: SerialExecutor, AnyObject, Sendable {
    /// Makes the loop's thread if it has none yet: an executor calls it before its first job
    /// needs the loop. Throws when the thread cannot be made.
    func start() throws
    /// Runs `action` on the loop's thread once `seconds` have passed on the loop's clock;
    /// returns an id for `cancelTimer`.
    func schedule(after seconds: Double, _ action: @escaping @Sendable () -> Void) -> Int
    func cancelTimer(_ id: Int)
    /// `delivery.deliver()` will be called on the loop's thread, before the loop waits again.
    func deliverSoon(_ delivery: any LoopDelivery)
}
