import RunnerCore

/// Events for one run executor, handed to it on its event loop's thread, between two polls:
/// what arrived together is handled together, and an exit the loop saw is handled right there,
/// without waking another thread. Producers may be any thread.
final class EventInbox<Event: Sendable>: LoopDelivery, @unchecked Sendable {
    private let lock = Lock()
    private var buffer: [Event] = []
    private var scheduled = false
    private var consumer: (([Event]) -> Void)?
    private let loop: any ExecutionLoop

    init(loop: any ExecutionLoop) {
        self.loop = loop
    }

    func yield(_ event: Event) {
        lock.lock()
        buffer.append(event)
        let schedule = consumer != nil && !scheduled
        if schedule { scheduled = true }
        lock.unlock()
        if schedule { loop.deliverSoon(self) }
    }

    /// Who receives the events from now on (called on the loop's thread); nil keeps them.
    func setConsumer(_ consumer: (([Event]) -> Void)?) {
        lock.lock()
        self.consumer = consumer
        let schedule = consumer != nil && !buffer.isEmpty && !scheduled
        if schedule { scheduled = true }
        lock.unlock()
        if schedule { loop.deliverSoon(self) }
    }

    /// On the loop's thread: the events queued so far, to the consumer.
    func deliver() {
        lock.lock()
        scheduled = false
        let batch = buffer
        buffer.removeAll()
        let consumer = self.consumer
        if consumer == nil { buffer = batch }
        lock.unlock()
        if let consumer, !batch.isEmpty { consumer(batch) }
    }
}
