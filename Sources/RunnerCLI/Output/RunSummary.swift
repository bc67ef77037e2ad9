import FoundationEssentials
import RunnerCore
import RunnerJSON

/// The end of a run, for a human: the outcome, and for a failure the step, its error and the
/// tail of its log.
enum RunSummary {
    static func render(_ stored: StoredRun, style: Style, logTail: Int = 15) -> String {
        let run = stored.run
        let elapsed = run.startedAt.map { ProgressRenderer.duration((run.finishedAt ?? Date()).timeIntervalSince($0)) } ?? "0s"
        let counts = Dictionary(grouping: stored.steps, by: \.status).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
        let error = [run.errorCode, run.errorMessage].compactMap { $0 }.joined(separator: ": ")
        var out: String
        switch run.status {
        case .succeeded:
            out = style.green("✓") + " run \(run.id) succeeded in \(elapsed) (\(counts.joined(separator: ", ")))\n"
        case .partial:
            out = style.yellow("◐") + " run \(run.id) partly succeeded in \(elapsed) (\(counts.joined(separator: ", ")))\n"
        case .rolledBack:
            out = style.yellow("↺") + " run \(run.id) rolled back in \(elapsed): \(error)\n"
        case .cancelled:
            out = style.yellow("■") + " run \(run.id) cancelled after \(elapsed)\n"
        case .skipped:
            out = style.dim("⊘") + " run \(run.id) skipped: \(run.errorMessage ?? "")\n"
        case .waiting:
            out = "⏸ run \(run.id) is waiting until \(RunJSON.time(run.wakeAt) ?? "later")\n"
        default:
            out = style.red("✗") + " run \(run.id) \(run.status.rawValue) after \(elapsed)\(error.isEmpty ? "" : ": " + error)\n"
        }
        for step in stored.steps where step.status == .failed {
            let attempt = stored.attempts.last { $0.step == step.name }
            out += "  \(style.red("✗")) \(step.name)"
            out += " (\(step.errorCode ?? "failed")\(step.attempts > 1 ? ", attempt \(step.attempts)" : ""))"
            // A step that printed nothing has no log file.
            if let log = attempt?.logPath, FileManager.default.fileExists(atPath: log) { out += style.dim(" — log \(log)") }
            out += "\n"
            if let log = attempt?.logPath, let text = try? String(contentsOfFile: log, encoding: .utf8) {
                for line in text.split(separator: "\n", omittingEmptySubsequences: false).suffix(logTail + 1).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                    out += "    " + style.dim("│") + " " + line + "\n"
                }
            }
        }
        return out
    }

    /// Exit status of a finished run: 0 only when it succeeded.
    static func exitCode(_ status: RunStatus) -> ExitCode {
        switch status {
        case .succeeded, .skipped: .success
        default: .runFailed
        }
    }
}
