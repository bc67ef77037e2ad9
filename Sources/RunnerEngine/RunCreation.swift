import FoundationEssentials
import RunnerCore
import RunnerCrypto

/// Makes the durable records of a new run: the run with its pipeline definition and params,
/// and one step record per step instance (for_each items expanded from the params).
public enum RunCreation {
    public static func records(id: RunID, pipeline: ValidatedPipeline, definition: String, file: String,
                               params: [String: Value], trigger: Trigger, parallelism: Int, at now: Date) -> (RunRecord, [StepRecord]) {
        var run = RunRecord(id: id, pipeline: pipeline.pipeline.name.value, pipelineFile: file, definition: definition,
                            trigger: trigger, params: params, parallelism: parallelism, createdAt: now)
        run.concurrencyGroup = concurrencyGroup(of: pipeline, params: params)
        run.secretParams = Set(pipeline.pipeline.params.filter(\.isSecret).map(\.name.value))
        let steps = RunScheduler.instances(of: pipeline, params: params).map { instance -> StepRecord in
            let step = pipeline.steps[instance.node]
            return StepRecord(name: instance.name, step: step.name.value, item: instance.item, section: step.section.description,
                              position: instance.index)
        }
        return (run, steps)
    }

    /// The group whose runs conflict: `group` (default the pipeline's name), plus the value of
    /// `key` when there is one. Nil when the pipeline declares no concurrency.
    public static func concurrencyGroup(of pipeline: ValidatedPipeline, params: [String: Value]) -> String? {
        guard let policy = pipeline.pipeline.concurrency else { return nil }
        var group = policy.group?.value ?? pipeline.pipeline.name.value
        if let key = policy.key {
            let value = ExpressionEvaluator.evaluate(key.root, in: EvaluationContext(params: params))
            let text = value.environmentText ?? ""
            // A key that holds a secret is kept (and shown) as its SHA-256: runs with the same
            // secret still conflict, and the secret is neither stored nor shown.
            let secrets = SecretMasker(secretValues(of: pipeline, params: params))
            if secrets.mask(text) != text {
                group += "/sha256:" + (Crypto.sha256HexIfAvailable(Array(text.utf8)).map { String($0.prefix(16)) } ?? "secret")
            } else {
                group += "/" + text
            }
        }
        return group
    }

    /// The values of the run's secret params, each item of a list on its own too.
    public static func secretValues(of pipeline: ValidatedPipeline, params: [String: Value]) -> [String] {
        var values: [String] = []
        for spec in pipeline.pipeline.params where spec.isSecret {
            guard let value = params[spec.name.value], let text = value.environmentText else { continue }
            values.append(text)
            if case .list(let items) = value { values += items.compactMap(\.environmentText) }
        }
        return values
    }
}
