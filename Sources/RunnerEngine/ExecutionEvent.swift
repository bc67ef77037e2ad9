import Foundation
import RunnerCore

/// What the engine tells its front door while a run executes (for live progress).
public enum ExecutionEvent: Sendable {
    case runStatus(RunID, RunStatus, errorCode: String?, message: String?, wakeAt: Date?)
    case stepStatus(StepName, StepStatus, attempt: Int, errorCode: String?, message: String?, at: Date)
    case attemptStarted(StepName, attempt: Int, serial: Int, logPath: String, at: Date)
    case attemptEnded(StepName, serial: Int, AttemptEnd, errorCode: String?, message: String?, at: Date)
    case progress(StepName, percent: Int, message: String?)
    case output(StepName, text: String, isError: Bool)
    /// `queue` / `cancel_running`: the run waits for an earlier run of its concurrency group.
    case waitingForGroup(active: RunRecord, group: String)
}

/// Where the engine keeps a run's files: `.runner/` or `$RUNNER_HOME`.
public struct StateDirectory: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// `$RUNNER_HOME`, else `.runner` in the working directory.
    public static func resolve(environment: [String: String], currentDirectory: String) -> StateDirectory {
        if let home = environment["RUNNER_HOME"], !home.isEmpty {
            return StateDirectory(root: URL(fileURLWithPath: home, relativeTo: URL(fileURLWithPath: currentDirectory)).standardizedFileURL)
        }
        return StateDirectory(root: URL(fileURLWithPath: currentDirectory).appendingPathComponent(".runner"))
    }

    public var database: URL { root.appendingPathComponent("state.db") }

    public func logs(of run: RunID) -> URL { root.appendingPathComponent("logs").appendingPathComponent(run.rawValue) }

    /// A file name for an instance: `promote[a/b]` → `promote[a%2Fb]`.
    public static func fileName(for name: StepName) -> String {
        let raw = name.rawValue
        if raw != "." && raw != ".." && !raw.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "%") || $0 < 0x20 || $0 == 0x7F }) {
            return raw
        }
        var out = ""
        for scalar in name.rawValue.unicodeScalars {
            if scalar == "/" || scalar == "%" || scalar.value < 0x20 || scalar == "\u{7F}" {
                out += String(format: "%%%02X", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out == "." || out == ".." ? "%2E" + out.dropFirst() : out
    }

    /// The files of one attempt share this stem: `<stem>.log`, `<stem>.output`, `<stem>.progress`.
    /// Plain string joins: this runs once per attempt, where URL parsing showed in profiles.
    public func attemptStem(run: RunID, step: StepName, serial: Int) -> String {
        let root = self.root.path
        return root + (root.hasSuffix("/") ? "" : "/") + "logs/" + run.rawValue + "/" + Self.fileName(for: step) + "." + String(serial)
    }

    public func logPath(run: RunID, step: StepName, serial: Int) -> String {
        attemptStem(run: run, step: step, serial: serial) + ".log"
    }

    public func ensure() throws {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("logs"), withIntermediateDirectories: true)
    }
}

/// Events for one consumer: `next()` waits for the first and returns every event queued by
/// then, so what arrived together is handled together. Producers may be any thread.
public final class EventQueue<Event: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [Event] = []
    private var waiter: CheckedContinuation<[Event], Never>?

    public init() {}

    public func yield(_ event: Event) {
        lock.lock()
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: [event])
        } else {
            buffer.append(event)
            lock.unlock()
        }
    }

    public func next() async -> [Event] {
        let first = await withCheckedContinuation { (continuation: CheckedContinuation<[Event], Never>) in
            lock.lock()
            if buffer.isEmpty {
                waiter = continuation
                lock.unlock()
            } else {
                let events = buffer
                buffer.removeAll()
                lock.unlock()
                continuation.resume(returning: events)
            }
        }
        // What came in while this consumer was being woken joins the batch.
        let more = drain()
        return more.isEmpty ? first : first + more
    }

    private func drain() -> [Event] {
        lock.withLock {
            let events = buffer
            buffer.removeAll()
            return events
        }
    }
}
