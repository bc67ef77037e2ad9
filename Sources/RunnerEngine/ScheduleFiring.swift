import FoundationEssentials
import RunnerCore

/// Fires the schedules (`triggers.schedule`) of the pipelines a server serves: what is due is
/// launched with trigger `schedule`; a schedule first seen starts from now; firings missed
/// while no server ran are run once. The firing is marked before the launch: a crash in between
/// loses that one firing rather than running it twice. The mark is set only over the mark that
/// was read (a compare-and-set), so of several servers sharing a store one fires each firing.
public struct ScheduleFiring: Sendable {
    /// One due firing of one schedule and what became of it.
    public struct Firing: Sendable {
        public var pipeline: String
        /// The cron text, as declared.
        public var cron: String
        public var fireTime: Date
        /// Earlier firings missed (while no server ran), run as this one.
        public var missed: Int
        public var outcome: Outcome
    }

    public enum Outcome: Sendable {
        /// The launch's answer (an accepted run is for the caller to execute).
        case launched(LaunchOutcome)
        /// The store failed to record the launch.
        case launchFailed(any Error)
        /// The firing could not be marked: nothing was launched.
        case markFailed(any Error)
        /// Another server marked it first, and launched it.
        case firedElsewhere
    }

    let service: RunService

    public init(service: RunService) {
        self.service = service
    }

    /// Checks every schedule of every pipeline once, at `now`.
    public func fireDue(_ pipelines: [LoadedPipeline], now: Date) -> [Firing] {
        pipelines.flatMap { loaded in
            loaded.pipeline.pipeline.triggers.schedules.enumerated().compactMap { entry, schedule in
                fire(loaded, entry: entry, schedule, now: now)
            }
        }
    }

    private func fire(_ loaded: LoadedPipeline, entry: Int, _ schedule: ScheduleTrigger, now: Date) -> Firing? {
        let store = service.store, cron = schedule.cron.value, name = loaded.name
        let zone = schedule.timezone.flatMap { TimeZone(identifier: $0.value) } ?? TimeZone(identifier: "UTC")!
        // A store that cannot answer is not "never fired": nothing is decided until it can.
        let recorded: Date?
        do {
            recorded = try store.scheduleLastFired(pipeline: name, entry: entry, cron: cron.source)
        } catch {
            return nil
        }
        guard let last = recorded else {
            _ = try? store.compareAndSetScheduleLastFired(pipeline: name, entry: entry, cron: cron.source,
                                                          expected: nil, at: now)
            return nil
        }
        guard case .fire(let at, let missed) = ScheduleClock.decide(cron, in: zone, lastFired: last, now: now) else {
            return nil
        }
        var firing = Firing(pipeline: name, cron: cron.source, fireTime: at, missed: missed, outcome: .firedElsewhere)
        do {
            guard try store.compareAndSetScheduleLastFired(pipeline: name, entry: entry, cron: cron.source,
                                                           expected: last, at: at) else { return firing }
        } catch {
            firing.outcome = .markFailed(error)
            return firing
        }
        do {
            // The run is created at the time it is launched; `now` decides what is due.
            firing.outcome = .launched(try service.launch(request(loaded, schedule, firing)))
        } catch {
            firing.outcome = .launchFailed(error)
        }
        return firing
    }

    private func request(_ loaded: LoadedPipeline, _ schedule: ScheduleTrigger, _ firing: Firing) -> LaunchRequest {
        let params = Dictionary(schedule.params.map { ($0.name.value, $0.value.value) },
                                uniquingKeysWith: { a, _ in a })
        var request = LaunchRequest(pipeline: loaded, params: LaunchRequest.given(params), trigger: .schedule,
                                    parallelism: ProcessInfo.processInfo.activeProcessorCount)
        // The zone's name as declared: Foundation's identifier for UTC is "GMT".
        request.triggerDetail = ["schedule": firing.cron, "timezone": schedule.timezone?.value ?? "UTC",
                                 "fire_time": Timestamp.format(firing.fireTime), "missed": String(firing.missed)]
        request.audit = AuditContext(actor: "schedule")
        return request
    }
}
