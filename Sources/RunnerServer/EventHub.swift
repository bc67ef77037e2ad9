import FoundationEssentials
import RunnerCore
import RunnerEngine

/// The event streams of one server (`GET /api/v1/runs/{id}/events`), all written by one
/// thread, which runs while a stream is open. Each run followed has one `EventChannel`, read
/// once for all its streams: when the engine reports a change (a run executing in this
/// process: `notify`, from its executor's observer), and every `pollInterval` when it executes
/// elsewhere (another server, a CLI `apply`). Each stream is fed at its client's pace
/// (`EventFeed`): nothing is skipped, and nothing is made for it while `behind` bytes wait
/// unsent, so a stalled client costs neither memory nor reads.
final class EventHub: @unchecked Sendable {
    struct Limits: Sendable {
        /// Streams open at once; more are refused until one ends.
        var maxStreams = 256
        /// How often a stream's logs, and a run executing elsewhere, are read.
        var pollInterval = 0.2
        /// From a change the engine reports to reading it: the engine records changes in
        /// groups at most 25 ms apart (`StoreWriter`).
        var settle = 0.05
        /// How often a run executing here is read without a change reported.
        var quietInterval = 1.0
        /// Unsent bytes at which a stream's feed stops making more until its client reads.
        var behind = 256 << 10
        /// A comment line after this many seconds without a write notices clients that left.
        var keepAlive = 15.0
        /// Transitions a channel keeps for its streams; a stream further behind reads the store.
        var keptEvents = 1024
        var feed = EventFeed.Limits()
    }

    enum Refusal: Error, Equatable {
        /// `maxStreams` are open.
        case full(Int)
        /// The stream could not be opened.
        case cannotOpen
        /// The system would not start the hub's thread.
        case noThread
    }

    private struct Arrival {
        var run: RunID
        var after: Int64
        var store: any RunRecordStore
        var sink: any EventSink
    }

    private let condition = Condition()
    private let isLocal: @Sendable (RunID) -> Bool
    // Under `condition`'s lock:
    private var storedLimits: Limits
    /// Streams open or being opened.
    private var open = 0
    private var arrivals: [Arrival] = []
    private var signalled: Set<RunID> = []
    private var followed: Set<RunID> = []
    private var isServing = false
    // The serving thread's own:
    private var channels: [RunID: EventChannel] = [:]

    /// `isLocal`: whether a run executes in this process (its changes are reported).
    init(limits: Limits = Limits(), isLocal: @escaping @Sendable (RunID) -> Bool = RunService.isExecutingHere) {
        storedLimits = limits
        self.isLocal = isLocal
    }

    var limits: Limits {
        get { locked { storedLimits } }
        set { locked { storedLimits = newValue } }
    }

    /// Streams open now.
    var openStreams: Int { locked { open } }

    /// Follows `run` from its transition `after` into the sink `open` makes, unless
    /// `maxStreams` are open (then `open` is not called).
    func subscribe(_ run: RunID, after: Int64, store: any RunRecordStore,
                   open makeSink: () -> (any EventSink)?) throws(Refusal) {
        let refusal: Refusal? = locked {
            guard open < storedLimits.maxStreams else { return .full(storedLimits.maxStreams) }
            // Started before the sink is opened: an opened HTTP stream must be answered with.
            if !isServing {
                guard Threads.tryStart({ [self] in serve() }) != nil else { return .noThread }
                isServing = true
            }
            open += 1
            return nil
        }
        if let refusal { throw refusal }
        guard let sink = makeSink() else {
            locked {
                open -= 1
                condition.signal()
            }
            throw .cannotOpen
        }
        locked {
            arrivals.append(Arrival(run: run, after: after, store: store, sink: sink))
            followed.insert(run)
            condition.signal()
        }
    }

    /// The engine changed `run` (an execution event): its streams, if any, are served soon.
    func notify(_ run: RunID) {
        locked {
            guard followed.contains(run) else { return }
            signalled.insert(run)
            condition.signal()
        }
    }

    // MARK: - The thread

    private func serve() {
        var wake = Monotonic.now()
        while case let (arrived, changed, limits)? = waitForWork(until: wake) {
            let now = Monotonic.now()
            for arrival in arrived {
                let channel = channels[arrival.run]
                    ?? EventChannel(run: arrival.run, after: arrival.after, store: arrival.store, now: now)
                channels[arrival.run] = channel
                channel.add(arrival.sink, after: arrival.after, limits: limits, now: now)
            }
            for run in changed { channels[run]?.signal(now: now, settle: limits.settle) }
            var ended = 0
            wake = now + limits.pollInterval
            for (run, channel) in channels {
                ended += channel.serve(now: now, limits: limits, isLocal: isLocal(run))
                if let next = channel.nextPoll { wake = min(wake, next) } else { channels[run] = nil }
            }
            let runs = Set(channels.keys)
            locked {
                open -= ended
                followed = runs.union(arrivals.map(\.run))
            }
        }
    }

    /// Waits for `deadline`, a new stream or a change; nil when no stream is left: the thread
    /// ends (a new stream starts another).
    private func waitForWork(until deadline: Monotonic) -> ([Arrival], Set<RunID>, Limits)? {
        locked {
            while arrivals.isEmpty && signalled.isEmpty && open > 0 && Monotonic.now() < deadline {
                condition.wait(until: deadline)
            }
            guard open > 0 else {
                isServing = false
                return nil
            }
            defer {
                arrivals.removeAll()
                signalled.removeAll()
            }
            return (arrivals, signalled, storedLimits)
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}
