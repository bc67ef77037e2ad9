import FoundationEssentials
import RunnerCore
import RunnerEngine

/// The server's timer thread: schedules fired and garbage collected by the engine
/// (`ScheduleFiring`, `GarbageCollector`), their log lines, and orphaned runs adopted.
extension APIServer {
    /// Fires what is due of every served pipeline's schedules (`ScheduleFiring`) and executes
    /// the runs launched. Returns them.
    @discardableResult
    public func fireDueSchedules(now: Date = Date(), log: (String) -> Void = { _ in }) -> [RunID] {
        let served = pipelineNames.compactMap { pipeline($0) }
        var launched: [RunID] = []
        for firing in ScheduleFiring(service: service).fireDue(served, now: now) {
            if case .launched(.accepted(let run)) = firing.outcome {
                launched.append(run.id)
                execute(run.id, pipeline: served.first { $0.name == firing.pipeline }?.pipeline)
            }
            if let line = Self.line(firing) { log("schedule of \(firing.pipeline) (\(firing.cron)): " + line) }
        }
        return launched
    }

    /// What the log says of a firing; nothing when another server fired it.
    static func line(_ firing: ScheduleFiring.Firing) -> String? {
        switch firing.outcome {
        case .firedElsewhere:
            return nil
        case .markFailed(let error):
            return "cannot record the firing: \(error)"
        case .launchFailed(let error):
            return "not launched: \(error)"
        case .launched(.accepted(let run)):
            let missed = firing.missed
            return "run \(run.id) for \(Timestamp.format(firing.fireTime))"
                + (missed > 0 ? " (\(missed) earlier firing\(missed == 1 ? "" : "s") missed while down, run once)" : "")
        case .launched(.rejected(let active, let code)):
            return "not launched: run \(active.id) is \(active.status.rawValue) (\(code))"
        case .launched(.skipped(let run, let active)):
            return "run \(run.id) skipped: run \(active.id) is \(active.status.rawValue)"
        case .launched(.invalid(let problems)):
            return "not launched: " + problems.map(\.message).joined(separator: "; ")
        case .launched(.replayed), .launched(.keyMismatch), .launched(.keyInFlight):
            return nil
        }
    }

    /// Removes finished runs past their retention (with logs and workspaces) and expired
    /// Idempotency-Keys.
    @discardableResult
    public func collectGarbage(defaultRetention: Duration, now: Date = Date(), log: (String) -> Void = { _ in }) -> Int {
        let swept = service.garbageCollector.sweep(now: now, defaultRetention: defaultRetention)
        let (removed, keys) = (swept.runs, swept.keys)
        if removed + keys > 0 {
            log("gc: removed \(removed) finished run\(removed == 1 ? "" : "s") and \(keys) expired "
                + "Idempotency-Key\(keys == 1 ? "" : "s")")
        }
        return removed
    }

    /// Fires due schedules every second, and collects garbage every `gcInterval`, until `stop`
    /// returns true. Throws when the thread that does it cannot be made.
    public func runSchedules(gcInterval: TimeInterval = 3600,
                             defaultRetention: Duration = GarbageCollector.defaultRetention,
                             log: @escaping @Sendable (String) -> Void, stop: @escaping @Sendable () -> Bool) throws {
        try Threads.start { [weak self] in
            var lastGC: Monotonic?
            var lastAdoption = Monotonic.now()
            while !stop() {
                self?.fireDueSchedules(log: log)
                if lastGC.map({ $0.elapsed >= gcInterval }) ?? true {
                    lastGC = Monotonic.now()
                    self?.collectGarbage(defaultRetention: defaultRetention, log: log)
                }
                if lastAdoption.elapsed >= Self.adoptionInterval {
                    lastAdoption = Monotonic.now()
                    self?.adoptOrphans(log: log)
                }
                Threads.sleep(seconds: 1)
            }
        }
    }
}
