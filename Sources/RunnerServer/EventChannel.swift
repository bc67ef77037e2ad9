import FoundationEssentials
import RunnerCore

/// One run followed by event streams, and what the hub has read of it for all of them: the run
/// without its definition, and its latest transitions. Each stream's feed reads through it (it
/// is their `EventFeed.Source`), so the store is read once per change of the run, not once per
/// stream and poll; a stream behind the transitions kept here (it resumed from an early
/// Last-Event-ID, or fell behind) reads its own from the store until it is back. Used on the
/// hub's thread only.
final class EventChannel: EventFeed.Source {
    struct Subscriber {
        var feed: EventFeed
        let sink: any EventSink
        var nextPoll: Monotonic
        var lastWrite: Monotonic
    }

    let run: RunID
    let store: any RunRecordStore
    private(set) var subscribers: [Subscriber] = []
    /// The run as last read; nil before the first read, or once it was removed.
    private var snapshot: StoredRun?
    private var hasRead = false
    /// The transitions numbered after `windowStart`, up to `head`, in order.
    private var recent: [RunEvent] = []
    private var windowStart: Int64
    private var head: Int64
    /// When the store is read next; a change the engine reports brings it forward.
    private var readDue: Monotonic
    private var isSignalled = false
    private var readFailure: (any Error)?
    private var round = Monotonic(seconds: 0)
    private var readRound: Monotonic?
    private var limits = EventHub.Limits()
    private var isLocal = false

    init(run: RunID, after: Int64, store: any RunRecordStore, now: Monotonic) {
        self.run = run
        self.store = store
        windowStart = after
        head = after
        readDue = now
    }

    func add(_ sink: any EventSink, after: Int64, limits: EventHub.Limits, now: Monotonic) {
        let feed = EventFeed(run: run, after: after, limits: limits.feed)
        subscribers.append(Subscriber(feed: feed, sink: sink, nextPoll: now, lastWrite: now))
    }

    /// The engine changed the run: it is read once the change is recorded (the engine records
    /// changes in groups, `settle` covers the wait), its streams served then.
    func signal(now: Monotonic, settle: Double) {
        readDue = min(readDue, now + settle)
        isSignalled = true
        for i in subscribers.indices { subscribers[i].nextPoll = min(subscribers[i].nextPoll, readDue) }
    }

    /// When a stream is served next.
    var nextPoll: Monotonic? { subscribers.map(\.nextPoll).min() }

    /// Serves the streams whose turn it is; `isLocal`: the run executes in this process (it is
    /// read when the engine reports a change, not every poll). Returns the streams that ended
    /// (finished, or their client left), closed and let go.
    func serve(now: Monotonic, limits: EventHub.Limits, isLocal: Bool) -> Int {
        round = now
        self.limits = limits
        self.isLocal = isLocal
        var ended: [Int] = []
        for i in subscribers.indices where subscribers[i].nextPoll <= now {
            if !serve(&subscribers[i]) { ended.append(i) }
        }
        for i in ended.reversed() {
            subscribers[i].sink.close()
            subscribers.remove(at: i)
        }
        trim()
        return ended.count
    }

    /// One stream's turn, as its own thread once did it: false once it has ended.
    private func serve(_ s: inout Subscriber) -> Bool {
        guard let pending = s.sink.pending else { return false }  // the client left
        guard pending < limits.behind else {
            s.nextPoll = round + limits.pollInterval
            return true
        }
        var wait = limits.pollInterval
        switch s.feed.poll(self) {
        case .send(let text, let more):
            guard s.sink.write(text) else { return false }
            s.lastWrite = round
            if more { wait = 0 }
        case .idle:
            break
        case .retry(let after):
            wait = after
        case .end(let text):
            s.sink.write(text)
            return false
        }
        if wait > 0 && round - s.lastWrite >= limits.keepAlive {
            guard s.sink.write(": keep-alive\n\n") else { return false }
            s.lastWrite = round
        }
        s.nextPoll = round + wait
        return true
    }

    // MARK: - EventFeed.Source

    func load(_ run: RunID, definition: Bool) throws -> StoredRun? {
        try readIfDue()
        return snapshot
    }

    func events(of run: RunID, after id: Int64) throws -> [RunEvent] {
        guard id >= windowStart else { return try store.events(of: run, after: id) }
        return Array(recent.drop { $0.id <= id })
    }

    /// Reads the run's new transitions, and the run again when there are some: at most once a
    /// round, for all its streams.
    private func readIfDue() throws {
        if readRound == round {
            if let readFailure { throw readFailure }
            return
        }
        guard round >= readDue else { return }
        readRound = round
        do {
            let found = try store.events(of: run, after: head)
            if !found.isEmpty || !hasRead {
                snapshot = try store.load(run, definition: false)
                // Transitions recorded while the run was read: a stream that sees the run
                // finished must have every transition before its end.
                keep(found + (try store.events(of: run, after: found.last?.id ?? head)))
                hasRead = true
            }
            readFailure = nil
            readDue = round + nextRead(found: !found.isEmpty)
        } catch {
            // Read again at the next stream's poll; each stream backs off (EventFeed).
            readFailure = error
            readDue = round
            throw error
        }
    }

    /// A run executing elsewhere is read every poll. One executing here is read when the
    /// engine reports a change, again at the next poll (a change may be recorded after the
    /// read), and every `quietInterval` anyway.
    private func nextRead(found: Bool) -> Double {
        defer { isSignalled = false }
        return !isLocal || found || isSignalled ? limits.pollInterval : limits.quietInterval
    }

    private func keep(_ events: [RunEvent]) {
        guard let last = events.last else { return }
        recent += events
        head = last.id
        if recent.count > limits.keptEvents {
            let dropped = recent.count - limits.keptEvents
            windowStart = recent[dropped - 1].id
            recent.removeFirst(dropped)
        }
    }

    /// Lets go of the transitions every stream has sent.
    private func trim() {
        guard let slowest = subscribers.map(\.feed.lastEvent).min(), min(slowest, head) > windowStart else { return }
        windowStart = min(slowest, head)
        recent.removeAll { $0.id <= windowStart }
    }
}
