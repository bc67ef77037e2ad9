import Foundation
import RunnerTestSupport
import RunnerCore
import RunnerYAML

/// Drives a `RunScheduler` as the engine would, with a fake launcher (scripted attempt
/// outcomes) and a manual clock (time jumps to the next event): a discrete-event simulation,
/// so engine rules are tested with no processes, no sleeps and no flakiness.
struct SchedulerHarness {
    /// What an attempt does: how long it runs and how it ends.
    struct Behaviour {
        var duration: TimeInterval = 1
        var end: AttemptEnd.Reason = .exited(code: 0)
        var stderr = ""
        var outputs: [String: String] = [:]
        /// Runs until terminated.
        var hangs = false

        static let ok = Behaviour()
        static func exit(_ code: Int32, stderr: String = "", after: TimeInterval = 1) -> Behaviour {
            Behaviour(duration: after, end: .exited(code: code), stderr: stderr)
        }
        static func outputs(_ values: [String: String]) -> Behaviour { Behaviour(outputs: values) }
        static let hang = Behaviour(hangs: true)
    }

    struct Launch: Equatable {
        var name: String
        var attempt: Int
        var at: TimeInterval
    }

    var scheduler: RunScheduler
    let start: Date
    var now: Date
    /// Behaviour per instance name, per attempt (the last one repeats).
    var script: [String: [Behaviour]] = [:]
    var launches: [Launch] = []
    var runStatuses: [RunStatus] = []
    var stepMessages: [String: String] = [:]
    var terminations: [(name: String, reason: RunScheduler.TerminationReason)] = []
    var maxConcurrent = 0
    var events: [(at: Date, order: Int, event: RunScheduler.Event)] = []
    var order = 0
    var running: [Int: (serial: Int, name: String)] = [:]
    var visibleOutputs: [String: [String]] = [:]
    /// Cancel when this many launches have happened.
    var cancelAfterLaunches: Int?
    var wakeAt: Date?

    init(_ yaml: String, params: [(String, ParamInput)] = [], parallelism: Int = 4, seed: UInt64 = 1,
         start: Date = Date(timeIntervalSince1970: 1_800_000_000)) throws {
        let loaded = PipelineLoader.load(bytes: Array(yaml.utf8), file: "test.yaml")
        guard let pipeline = loaded.pipeline else {
            throw HarnessError("invalid pipeline: \(loaded.diagnostics.map(\.message))")
        }
        let resolved = ParamResolver.resolve(params.map { (name: $0.0, input: $0.1) }, against: pipeline.pipeline.params)
        guard !resolved.diagnostics.hasErrors else { throw HarnessError("params: \(resolved.diagnostics.map(\.message))") }
        scheduler = RunScheduler(pipeline: pipeline, params: resolved.values,
                                 configuration: .init(parallelism: parallelism, seed: seed))
        self.start = start
        now = start
    }

    func name(_ instance: Int) -> String { scheduler.instances[instance].name.rawValue }

    func behaviour(_ name: String, attempt: Int) -> Behaviour {
        let list = script[name] ?? script[String(name.prefix { $0 != "[" })] ?? [.ok]
        return list[min(attempt - 1, list.count - 1)]
    }

    mutating func schedule(_ event: RunScheduler.Event, at date: Date) {
        order += 1
        events.append((date, order, event))
    }

    mutating func apply(_ actions: [RunScheduler.Action]) {
        for action in actions {
            switch action {
            case .runStatus(let status, _, _, let wake):
                runStatuses.append(status)
                if status == .waiting { wakeAt = wake }
            case .stepStatus(let i, _, _, let message):
                if let message { stepMessages[name(i)] = message }
            case .launch(let request):
                let n = request.name.rawValue
                launches.append(Launch(name: n, attempt: request.serial, at: now.timeIntervalSince(start)))
                visibleOutputs[n] = request.visibleOutputs.map { "\($0.step).\($0.key)=\($0.value)" }
                running[request.instance] = (request.serial, n)
                maxConcurrent = max(maxConcurrent, running.count)
                let b = behaviour(n, attempt: request.serial)
                if !b.hangs {
                    schedule(.attemptEnded(instance: request.instance, serial: request.serial, AttemptEnd(b.end, stderrTail: b.stderr),
                                           outputs: b.outputs), at: now.addingTimeInterval(b.duration))
                }
                if let limit = cancelAfterLaunches, launches.count == limit { schedule(.cancel, at: now) }
            case .terminate(let i, let serial, let reason):
                terminations.append((name(i), reason))
                let end: AttemptEnd.Reason = reason == .timeout ? .timedOut : .signalled(15)
                events.removeAll { if case .attemptEnded(i, serial, _, _) = $0.event { true } else { false } }
                schedule(.attemptEnded(instance: i, serial: serial, AttemptEnd(end), outputs: [:]), at: now)
            case .setTimer(let key, let date):
                schedule(.timer(key), at: date)
            case .attemptEnded(let i, _, _, _, _, _):
                running[i] = nil
            case .outputs:
                break
            }
        }
    }

    /// Runs to the end (or until `limit` events), returning the final run status.
    @discardableResult
    mutating func run(limit: Int = 100_000) -> RunStatus {
        apply(scheduler.start(now: now))
        var steps = 0
        while !scheduler.isFinished, !events.isEmpty, steps < limit {
            steps += 1
            events.sort { ($0.at, $0.order) < ($1.at, $1.order) }
            let next = events.removeFirst()
            now = max(now, next.at)
            apply(scheduler.handle(next.event, now: now))
        }
        return scheduler.runStatus
    }

    func status(_ name: String) -> StepStatus? {
        scheduler.instances.first { $0.name.rawValue == name }?.status
    }

    func instance(_ name: String) -> RunScheduler.Instance? {
        scheduler.instances.first { $0.name.rawValue == name }
    }

    var order_: [String] { launches.map(\.name) }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
