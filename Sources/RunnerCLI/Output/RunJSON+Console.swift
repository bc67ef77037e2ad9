import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerJSON

extension RunJSON {
    /// A stored run as JSON, its secret params (those stored with it, and `secrets`) as `***`,
    /// written to the console in pieces of about 64 KB, its steps and attempts converted one
    /// by one as they are written.
    /// `weights`: those of the run's progress (`RunProgress`).
    static func writeJSON(_ stored: StoredRun, secrets: Set<String>, weights: [String: Int], to console: Console) {
        var header = RunJSON(stored.run, masked: stored.run.maskedParams.union(secrets))
        header.setProgress(of: stored.steps, weights: weights)
        JSONWriter.stream(to: { console.out(String(decoding: $0, as: UTF8.self)) }) { json in
            header.write(to: &json, steps: stored.steps.lazy.map(step), attempts: stored.attempts.lazy.map(attempt))
        }
    }

    /// Runs as JSON, an array.
    static func writeJSON(_ runs: [RunJSON], to console: Console) {
        console.out(String(decoding: JSONWriter.document(runs), as: UTF8.self))
    }
}
