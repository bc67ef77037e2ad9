import FoundationEssentials
import RunnerCore
import RunnerEngine

extension APIServer {
    /// Checks every schedule of every served pipeline once: fires what is due (a schedule
    /// first seen starts from now; firings missed while the server was down run once). The
    /// firing is recorded before the launch: a crash in between loses that one firing rather
    /// than running it twice. Returns the runs launched.
    @discardableResult
    public func fireDueSchedules(now: Date = Date(), log: (String) -> Void = { _ in }) -> [RunID] {
        var launched: [RunID] = []
        for name in pipelineNames {
            guard let loaded = pipeline(name) else { continue }
            for (entry, schedule) in loaded.pipeline.pipeline.triggers.schedules.enumerated() {
                let cron = schedule.cron.value
                let zone = schedule.timezone.flatMap { TimeZone(identifier: $0.value) } ?? TimeZone(identifier: "UTC")!
                // A store that cannot answer is not "never fired": nothing is decided until it can.
                let recorded: Date?
                do { recorded = try service.store.scheduleLastFired(pipeline: name, entry: entry, cron: cron.source) } catch { continue }
                guard let last = recorded else {
                    try? service.store.setScheduleLastFired(pipeline: name, entry: entry, cron: cron.source, at: now)
                    continue
                }
                guard case .fire(let at, let missed) = ScheduleClock.decide(cron, in: zone, lastFired: last, now: now) else { continue }
                do {
                    try service.store.setScheduleLastFired(pipeline: name, entry: entry, cron: cron.source, at: at)
                } catch {
                    log("schedule of \(name) (\(cron.source)): cannot record the firing: \(error)")
                    continue
                }
                let params = Dictionary(schedule.params.map { ($0.name.value, $0.value.value) }, uniquingKeysWith: { a, _ in a })
                // The name as declared: Foundation's identifier for UTC is "GMT".
                let detail = ["schedule": cron.source, "timezone": schedule.timezone?.value ?? "UTC", "fire_time": Timestamp.format(at), "missed": String(missed)]
                switch launchScheduled(loaded, params: params, detail: detail) {
                case .success(.created(let id)):
                    launched.append(id)
                    log("schedule of \(name) (\(cron.source)): run \(id) for \(Timestamp.format(at))"
                        + (missed > 0 ? " (\(missed) earlier firing\(missed == 1 ? "" : "s") missed while down, run once)" : ""))
                case .success(.rejected(let active, let code)):
                    log("schedule of \(name) (\(cron.source)): not launched: run \(active.id) is \(active.status.rawValue) (\(code))")
                case .success(.skipped(let id, let active)):
                    log("schedule of \(name) (\(cron.source)): run \(id) skipped: run \(active.id) is \(active.status.rawValue)")
                case .failure(let message):
                    log("schedule of \(name) (\(cron.source)): not launched: \(message.text)")
                }
            }
        }
        return launched
    }

    struct LaunchFailure: Error { var text: String }

    func launchScheduled(_ loaded: LoadedPipeline, params: [String: Value], detail: [String: String]) -> Result<RunService.Admission, LaunchFailure> {
        let pipeline = loaded.pipeline
        let checked: LaunchCheck.Checked
        switch LaunchCheck.check(params.keys.sorted().map { (name: $0, input: .value(params[$0]!)) }, for: pipeline, pipelineFile: loaded.file) {
        case .success(let c): checked = c
        case .failure(let failure): return .failure(LaunchFailure(text: failure.diagnostics.map(\.message).joined(separator: "; ")))
        }
        let service = self.service, values = checked.params, refs = checked.refs
        let outcome: Result<RunService.Admission, any Error> = Self.wait {
            do {
                return .success(try await service.admit(pipeline: pipeline, definition: loaded.definition, file: loaded.file, params: values,
                                                        trigger: .schedule, parallelism: ProcessInfo.processInfo.activeProcessorCount,
                                                        refs: refs, triggerDetail: detail))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .failure(let error): return .failure(LaunchFailure(text: "\(error)"))
        case .success(let admission):
            if case .created(let id) = admission {
                let secrets = Set(pipeline.pipeline.params.filter(\.isSecret).map(\.name.value))
                let shown = values.reduce(into: [String: Value]()) { $0[$1.key] = secrets.contains($1.key) ? .string("***") : $1.value }
                try? service.store.appendAudit(AuditRecord(at: Date(), action: "launch", runID: id, pipeline: loaded.name, actor: "schedule",
                                                           params: shown, traceID: nil))
                execute(id, pipeline: pipeline)
            }
            return .success(admission)
        }
    }

    /// Removes finished runs past their retention (with logs and workspaces) and expired
    /// Idempotency-Keys.
    @discardableResult
    public func collectGarbage(defaultRetention: Duration, now: Date = Date(), log: (String) -> Void = { _ in }) -> Int {
        let removed = (try? service.collectGarbage(now: now, defaultRetention: defaultRetention))?.count ?? 0
        let keys = (try? service.store.expireIdempotencyKeys(now: now)) ?? 0
        if removed + keys > 0 { log("gc: removed \(removed) finished run\(removed == 1 ? "" : "s") and \(keys) expired Idempotency-Key\(keys == 1 ? "" : "s")") }
        return removed
    }

    /// Fires due schedules every second, and collects garbage every `gcInterval`, until `stop`
    /// returns true. Throws when the thread that does it cannot be made.
    public func runSchedules(gcInterval: TimeInterval = 3600, defaultRetention: Duration = RunService.defaultRetention,
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
