import FoundationEssentials
import RunnerCore

/// Retrying a run: a new run of the same definition, params and commits that re-runs a step
/// and everything after it. A finished run never changes: this is how it is re-run.
extension RunService {
    /// The main steps before `step` that succeeded keep their results (and outputs), marked as
    /// reused. The pipeline's concurrency rule applies as to any launch, except that `skip`
    /// refuses as `reject` does (a retry asked for now is not recorded as skipped). Audited as
    /// `retry` when `audit` is given. Throws `OperationFailure` when the store fails (and the
    /// secret box's error when the original's secret params cannot be opened).
    public func retry(_ original: RunID, from step: String, trigger: Trigger, audit context: AuditContext?,
                      at now: Date? = nil) throws -> LaunchOutcome {
        let now = now ?? clock.now()
        let found: StoredRun?
        do { found = try store.load(original) } catch { throw OperationFailure(.readingRun, error) }
        guard let stored = found else { return .invalid([Diagnostic(.runNotFound, "no run \(original)")]) }
        guard let pipeline = try? StoredDefinition.load(stored.run).get() else {
            let problem = Diagnostic(.definitionUnloadable, "the stored pipeline of run \(original) no longer loads")
            return .invalid([problem])
        }
        let start: Int
        switch Self.retryStart(step, of: original, in: pipeline) {
        case .success(let node): start = node
        case .failure(let problem): return .invalid([problem])
        }
        var (run, steps) = try records(retrying: stored, with: pipeline, trigger: trigger, at: now)
        run.actor = context?.actor ?? stored.run.actor
        Self.reuse(stored, before: start, in: pipeline, steps: &steps)
        let active: RunRecord?
        do {
            active = try create(run, steps: steps, policy: pipeline.pipeline.concurrency)
        } catch {
            throw OperationFailure(.recordingRun, error)
        }
        if let active {
            let code = pipeline.pipeline.concurrency?.errorCode?.value ?? ConcurrencyPolicy.defaultErrorCode
            return .rejected(active: active, code: code)
        }
        if let context { audit("retry", run: run.id, pipeline: run.pipeline, params: [:], by: context, at: now) }
        run.definition = ""
        return .accepted(run)
    }

    /// The node of `step`, which must be a main step of the pipeline.
    static func retryStart(_ step: String, of original: RunID,
                           in pipeline: ValidatedPipeline) -> Result<Int, Diagnostic> {
        guard let start = pipeline.graph.indexByName[step] else {
            let hint = Suggestion.hint(for: step, in: pipeline.steps.map(\.name.value))
            let message = "run \(original) has no step '\(step)'" + (hint.map { "; \($0)" } ?? "")
            return .failure(Diagnostic(.stepNotFound, message))
        }
        guard pipeline.steps[start].section.isMain else {
            let section = pipeline.steps[start].section
            return .failure(Diagnostic(.stepNotFound, "--from takes a main step; '\(step)' is a \(section) step"))
        }
        return .success(start)
    }

    /// The new run's records: the original's definition, params (secrets sealed again) and
    /// commits (a retry never picks up a branch that moved).
    private func records(retrying stored: StoredRun, with pipeline: ValidatedPipeline, trigger: Trigger,
                         at now: Date) throws -> (RunRecord, [StepRecord]) {
        var random = SystemRandomNumberGenerator()
        var (run, steps) = RunCreation.records(id: RunID.generate(at: now, using: &random), pipeline: pipeline,
                                               definition: stored.run.definition, file: stored.run.pipelineFile,
                                               params: try secretBox.reveal(stored.run.params), trigger: trigger,
                                               parallelism: stored.run.parallelism, at: now)
        run.params = try secretBox.seal(run.params, names: run.secretParams ?? [])
        run.errorMessage = nil
        run.refs = stored.run.refs
        return (run, steps)
    }

    /// Marks as reused the main steps the retry does not run again that succeeded in `stored`.
    /// What runs again: the step, what needs it (transitively), and every later stage.
    static func reuse(_ stored: StoredRun, before start: Int, in pipeline: ValidatedPipeline,
                      steps: inout [StepRecord]) {
        let graph = pipeline.graph
        var rerun = Set([start])
        var queue = [start]
        var dependents = Array(repeating: [Int](), count: graph.nodes.count)
        for (node, info) in graph.nodes.enumerated() { for need in info.needs { dependents[need].append(node) } }
        while let node = queue.popLast() {
            for d in dependents[node] where rerun.insert(d).inserted { queue.append(d) }
        }
        if let stage = graph.stage(of: start) {
            for node in graph.nodes.indices where (graph.stage(of: node) ?? -1) > stage { rerun.insert(node) }
        }
        let previous = Dictionary(stored.steps.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for index in steps.indices {
            guard let node = graph.indexByName[steps[index].step], pipeline.steps[node].section.isMain,
                  !rerun.contains(node), let old = previous[steps[index].name], old.status == .succeeded
            else { continue }
            steps[index].status = .succeeded
            steps[index].outputs = old.outputs
            steps[index].errorMessage = "reused from run \(stored.run.id)"
            steps[index].finishedAt = old.finishedAt
        }
    }
}
