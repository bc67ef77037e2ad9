import Foundation
import RunnerCore

/// A `ProcessLauncher` that starts nothing: it records each launch (its spec, and the step and
/// attempt its `RUNNER_*` variables name) and each signal the engine asks for, and a test ends
/// a "process" when it wants, with the exit it wants. Its loop is a `FakeLoop` on a
/// `ManualClock`: the engine's timers fire when the test moves the clock.
public final class FakeLauncher: ProcessLauncher, @unchecked Sendable {
    /// One launch: what the engine asked to start.
    public struct Process: Sendable {
        public var pid: Int32
        public var spec: ProcessSpec
        public var step: String { spec.environment["RUNNER_STEP"] ?? "?" }
        public var serial: Int { Int(spec.environment["RUNNER_ATTEMPT"] ?? "") ?? 0 }
        /// The id of the run the attempt is of (its marker is `<run>/<step>/<serial>`).
        public var run: String { String((spec.environment["RUNNER_ATTEMPT_ID"] ?? "").prefix { $0 != "/" }) }
        public var end: AttemptEnd.Reason?
    }

    /// What the engine asked of the launcher, in order.
    public enum Call: Sendable, Equatable {
        case launch(step: String, serial: Int)
        case terminate(step: String)
        case kill(step: String)
        case killAbandoned(marker: String)
    }

    public struct Record: Sendable {
        public var processes: [Process] = []
        public var calls: [Call] = []
        fileprivate var exits: [Int32: @Sendable (ProcessExit) -> Void] = [:]

        /// The steps launched, in order (one entry per attempt).
        public var launched: [String] { processes.map(\.step) }
        /// The attempts still running.
        public var running: [Process] { processes.filter { $0.end == nil } }
    }

    public let clock: ManualClock
    public let loop: FakeLoop
    public var executionLoop: any ExecutionLoop { loop }
    public let record = Observed(Record())
    /// Whether a terminated process ends at once (killed by SIGTERM), as a step that does not
    /// trap it would.
    public let endsWhenTerminated: Bool

    public init(clock: ManualClock = ManualClock(), endsWhenTerminated: Bool = true) {
        self.clock = clock
        loop = FakeLoop(clock: clock)
        self.endsWhenTerminated = endsWhenTerminated
    }

    public func launch(_ spec: ProcessSpec, onExit: @escaping @Sendable (ProcessExit) -> Void) throws -> Int32 {
        var pid: Int32 = 0
        record.update { record in
            pid = Int32(1000 + record.processes.count)
            let process = Process(pid: pid, spec: spec)
            record.processes.append(process)
            record.calls.append(.launch(step: process.step, serial: process.serial))
            record.exits[pid] = onExit
        }
        return pid
    }

    public func terminate(_ pid: Int32, grace: Duration) {
        record.update { $0.calls.append(.terminate(step: Self.step(pid, in: $0))) }
        if endsWhenTerminated { end(pid: pid, .signalled(15)) }
    }

    public func kill(processGroup pid: Int32) {
        record.update { $0.calls.append(.kill(step: Self.step(pid, in: $0))) }
        end(pid: pid, .signalled(9))
    }

    public func killAbandoned(marker: String) {
        record.update { $0.calls.append(.killAbandoned(marker: marker)) }
    }

    /// Ends the running attempt of `step` (the latest, when several are): its exit goes to
    /// the engine as a real process's would. False when no attempt of the step runs.
    @discardableResult
    public func end(_ step: String, _ reason: AttemptEnd.Reason = .exited(code: 0), stderr: String = "") -> Bool {
        guard let pid = record.value.running.last(where: { $0.step == step })?.pid else { return false }
        return end(pid: pid, reason, stderr: stderr)
    }

    @discardableResult
    public func end(pid: Int32, _ reason: AttemptEnd.Reason, stderr: String = "") -> Bool {
        var onExit: (@Sendable (ProcessExit) -> Void)?
        record.update { record in
            guard let index = record.processes.firstIndex(where: { $0.pid == pid && $0.end == nil }) else { return }
            record.processes[index].end = reason
            onExit = record.exits.removeValue(forKey: pid)
        }
        onExit?(ProcessExit(reason: reason, stderrTail: stderr))
        return onExit != nil
    }

    /// Waits until `count` attempts have been launched in all; false after `timeout` seconds.
    public func waitForLaunches(_ count: Int, timeout: Double = 30) async -> Bool {
        await record.wait(timeout: timeout) { $0.processes.count >= count }
    }

    private static func step(_ pid: Int32, in record: Record) -> String {
        record.processes.first { $0.pid == pid }?.step ?? "?"
    }
}
