import FoundationEssentials
import RunnerCore
import RunnerServer

extension RunJSON {
    /// A stored run as JSON, written in pieces, its steps and attempts converted one by one.
    static func writeJSON(_ stored: StoredRun, secrets: Set<String>, to console: Console) {
        let header = RunJSON(stored.run, secrets: secrets)
        header.writeJSON(to: console, steps: LazyElements(count: stored.steps.count, steps: { step(stored.steps[$0]) }),
                         attempts: LazyElements(count: stored.attempts.count, attempts: { attempt(stored.attempts[$0]) }))
    }

    /// Written to the console in pieces of about 64 KB.
    func writeJSON(to console: Console, steps lazySteps: LazyElements? = nil, attempts lazyAttempts: LazyElements? = nil) {
        let lazySteps = lazySteps ?? steps.map { s in LazyElements(count: s.count, steps: { s[$0] }) }
        let lazyAttempts = lazyAttempts ?? attempts.map { a in LazyElements(count: a.count, attempts: { a[$0] }) }
        streamedJSON(steps: lazySteps, attempts: lazyAttempts) { console.out($0) }
    }
}
