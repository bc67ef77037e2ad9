import Dispatch
import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerJSON

/// Live progress of a run. On a terminal: one line per started step (status symbol, name,
/// attempt, elapsed time, progress), redrawn in place, with step output scrolling above.
/// Elsewhere (CI logs, pipes): one line per transition.
final class ProgressRenderer: @unchecked Sendable {
    struct Line {
        var name: String
        var status: StepStatus
        var attempt: Int
        var startedAt: Date?
        var finishedAt: Date?
        var progress: Int?
        var note: String?
    }

    private let console: Console
    private let style: Style
    private let isTTY: Bool
    private let lock = Lock()
    private var lines: [Line] = []
    private var index: [String: Int] = [:]
    private var drawnLines = 0
    private var runStatus: RunStatus = .queued
    private var header: String
    private let started = Date()
    private var timer: DispatchSourceTimer?
    private var pendingOutput: [String: String] = [:]
    static let maxShown = 20

    init(console: Console, isTTY: Bool, header: String) {
        self.console = console
        self.style = Style(enabled: console.colorsOutput)
        self.isTTY = isTTY
        self.header = header
        if isTTY {
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + 0.2, repeating: 0.2)
            timer.setEventHandler { [weak self] in self?.redraw() }
            timer.resume()
            self.timer = timer
        } else {
            console.out(header + "\n")
        }
    }

    func stop() {
        timer?.cancel()
        timer = nil
        lock.lock()
        defer { lock.unlock() }
        if isTTY { draw() }
    }

    func handle(_ event: ExecutionEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .runStatus(_, let status, let code, let message, let wake):
            runStatus = status
            guard !isTTY else { break }
            switch status {
            case .waiting: emit("⏸ run waiting until \(RunJSON.time(wake) ?? "later")\(code.map { " (\($0))" } ?? "")")
            case .rollbackPending: emit(style.yellow("↺ rolling back") + (message.map { ": \($0)" } ?? ""))
            case .running, .queued: break
            default: break
            }
        case .stepStatus(let name, let status, let attempt, let code, let message, let at):
            stepChanged(name, status, attempt: attempt, code: code, message: message, at: at)
        case .attemptStarted(let name, let attempt, _, _, let at):
            var line = lines[slot(name.rawValue)]
            line.status = .running
            line.attempt = attempt
            line.startedAt = line.startedAt ?? at
            line.progress = nil
            lines[slot(name.rawValue)] = line
            if !isTTY {
                emit("\(style.symbol(.running)) \(name.rawValue)\(attempt > 1 ? " (attempt \(attempt))" : "")")
            }
        case .attemptEnded:
            break
        case .progress(let name, let percent, let message):
            let i = slot(name.rawValue)
            let previous = lines[i].progress
            lines[i].progress = percent
            // In logs, a line per tenth is enough.
            if !isTTY, previous.map({ percent / 10 > $0 / 10 }) ?? true {
                emit("  \(name.rawValue) \(percent)%\(message.map { " \($0)" } ?? "")")
            }
        case .waitingForGroup(let active, let group):
            emit(style.yellow("waiting") + " for run \(active.id) (\(active.status.rawValue)) of concurrency group \(group)")
        case .storeWaiting(let why?, let patience):
            emit(style.yellow("waiting") + " for the state store, which cannot record (\(why)): nothing new starts;"
                 + " the run stops if it cannot record for \(Int(patience)) s")
        case .storeWaiting(nil, _):
            emit(style.green("recording again") + ": the state store records; the run goes on")
        case .output(let name, let text, _):
            // Whole lines only, each prefixed with its step.
            let buffered = (pendingOutput[name.rawValue] ?? "") + text
            var parts = buffered.split(separator: "\n", omittingEmptySubsequences: false)
            pendingOutput[name.rawValue] = String(parts.removeLast())
            for part in parts { emit(style.dim("[\(name.rawValue)]") + " " + part) }
        }
        if isTTY { draw() }
    }

    /// Must be called with the lock held.
    private func stepChanged(_ name: StepName, _ status: StepStatus, attempt: Int, code: String?, message: String?,
                             at: Date) {
        var line = lines[slot(name.rawValue)]
        line.status = status
        line.attempt = max(line.attempt, attempt)
        if status == .running && line.startedAt == nil { line.startedAt = at }
        if status.isTerminal { line.finishedAt = at }
        line.note = noteFor(status, code: code, message: message)
        lines[slot(name.rawValue)] = line
        if !isTTY, status != .running {
            let elapsed = elapsedText(line).map { "  \($0)" } ?? ""
            emit("\(style.symbol(status)) \(name.rawValue)\(elapsed)\(line.note.map { "  \($0)" } ?? "")")
        }
    }

    private func slot(_ name: String) -> Int {
        if let i = index[name] { return i }
        lines.append(Line(name: name, status: .queued, attempt: 0))
        index[name] = lines.count - 1
        return lines.count - 1
    }

    private func noteFor(_ status: StepStatus, code: String?, message: String?) -> String? {
        switch status {
        case .failed: return style.red([code, message].compactMap { $0 }.joined(separator: ": "))
        case .queued where message != nil: return style.yellow("retry: " + (message ?? ""))
        case .skipped, .cancelled: return message.map { style.dim($0) }
        default: return nil
        }
    }

    private func elapsedText(_ line: Line) -> String? {
        guard let start = line.startedAt else { return nil }
        return Self.duration((line.finishedAt ?? Date()).timeIntervalSince(start))
    }

    static func duration(_ seconds: TimeInterval) -> String {
        // No String(format:): it showed in profiles of runs of many short steps.
        func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if seconds < 10 {
            let tenths = Int((seconds * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        if seconds < 3600 { return "\(Int(seconds) / 60)m\(twoDigits(Int(seconds) % 60))s" }
        return "\(Int(seconds) / 3600)h\(twoDigits(Int(seconds) / 60 % 60))m"
    }

    /// Text above the redrawn block (TTY) or a plain line.
    private func emit(_ text: String) {
        if isTTY {
            clear()
            console.out(text + "\n")
        } else {
            console.out(text + "\n")
        }
    }

    private func redraw() {
        lock.lock()
        defer { lock.unlock() }
        draw()
    }

    private func clear() {
        guard drawnLines > 0 else { return }
        console.out("\u{1B}[\(drawnLines)A\u{1B}[J")
        drawnLines = 0
    }

    private func draw() {
        clear()
        let started = lines.filter { $0.status != .queued || $0.attempt > 0 }
        let shown = started.suffix(Self.maxShown)
        var out = "\(style.bold(header)) · \(runStatus.rawValue) · \(Self.duration(Date().timeIntervalSince(self.started)))\n"
        if started.count > shown.count { out += style.dim("  … \(started.count - shown.count) earlier steps") + "\n" }
        for line in shown {
            var text = "  \(style.symbol(line.status)) \(line.name)"
            if line.attempt > 1 { text += style.dim(" #\(line.attempt)") }
            if let elapsed = elapsedText(line) { text += "  " + style.dim(elapsed) }
            if let p = line.progress, line.status == .running { text += "  \(p)%" }
            if let note = line.note { text += "  \(note)" }
            out += text + "\n"
        }
        console.out(out)
        drawnLines = out.filter { $0 == "\n" }.count
    }
}
