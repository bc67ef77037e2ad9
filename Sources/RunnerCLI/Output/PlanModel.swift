import FoundationEssentials
import RunnerCore

/// What `plan` shows, as data: rendered as text, or encoded as JSON.
struct PlanModel: Encodable {
    struct Param: Encodable {
        var name: String
        var type: String
        var value: Value?
        var source: String
        var required: Bool
        var secret: Bool
        var errorCode: String?
        var description: String?
        /// A gitref param's commit.
        var sha: String?

        enum CodingKeys: String, CodingKey {
            case name, type, value, source, required, secret, errorCode = "error_code", description, sha
        }
    }

    struct ErrorClass: Encodable {
        var match: String
        var code: String
        var retry: String
        var origin: String
    }

    struct Step: Encodable {
        var name: String
        var stage: String?
        var wave: Int
        var needs: [String]
        var afterStage: String?
        var run: String
        var shell: [String]
        var workdir: String?
        var timeout: String?
        var retry: String
        var errors: [ErrorClass]
        var condition: String?
        /// The condition's value when it reads only params; nil when decided at run time.
        var conditionValue: Bool?
        var forEach: String?
        var instances: [String]?
        var outputs: [String]
        /// The pipeline's and the step's own variables; the runner adds PARAM_*, STEP_*, RUNNER_*.
        var env: [String: String]
        var commitPoint: Bool
        var continueOnError: Bool
        var allowPartial: Bool

        enum CodingKeys: String, CodingKey {
            case name, stage, wave, needs, afterStage = "after_stage", run, shell, workdir, timeout, retry, errors
            case condition = "if", conditionValue = "if_value", forEach = "for_each", instances, outputs, env
            case commitPoint = "commit_point", continueOnError = "continue_on_error", allowPartial = "allow_partial"
        }
    }

    struct Concurrency: Encodable {
        var group: String
        var key: String?
        var onConflict: String
        var errorCode: String
        enum CodingKeys: String, CodingKey { case group, key, onConflict = "on_conflict", errorCode = "error_code" }
    }

    struct Schedule: Encodable {
        var cron: String
        var timezone: String
        var next: String?
    }

    struct Triggers: Encodable {
        var apiPath: String?
        var schedules: [Schedule]
        var git: String?
        enum CodingKeys: String, CodingKey { case apiPath = "api_path", schedules, git }
    }

    var pipeline: String
    var file: String
    var description: String?
    var params: [Param]
    var concurrency: Concurrency?
    var idempotency: String?
    var triggers: Triggers
    /// `checkout of params.X at <sha>` when the pipeline declares a workspace.
    var workspace: String?
    var main: [Step]
    var rollback: [Step]
    var finally: [Step]
    var commitPoints: [String]

    enum CodingKeys: String, CodingKey {
        case pipeline, file, description, params, concurrency, idempotency, triggers, workspace, main, rollback, finally
        case commitPoints = "commit_points"
    }

    init(_ validated: ValidatedPipeline, params values: [String: Value], given: Set<String>, environment: [String: String],
         refs: [String: RecordedRef] = [:]) {
        let p = validated.pipeline
        pipeline = p.name.value
        file = p.file
        description = p.description
        params = p.params.map { spec in
            let value = values[spec.name.value]
            let source = given.contains(spec.name.value) ? "given" : value != nil ? "default" : "unset"
            return Param(name: spec.name.value, type: spec.kind.displayName,
                         value: spec.isSecret && value != nil ? .string("***") : value, source: source,
                         required: spec.isRequired, secret: spec.isSecret, errorCode: spec.errorCode?.value,
                         description: spec.description, sha: refs[spec.name.value]?.sha)
        }
        workspace = p.workspace.map { w in
            "checkout of params.\(w.param.value)" + (refs[w.param.value].map { " at \($0.sha)" } ?? "")
        }
        concurrency = p.concurrency.map { c in
            Concurrency(group: c.group?.value ?? p.name.value, key: c.key?.text, onConflict: c.onConflict.rawValue,
                        errorCode: c.errorCode?.value ?? ConcurrencyPolicy.defaultErrorCode)
        }
        idempotency = p.idempotency.map { i in
            "key \(i.isRequired ? "required" : "optional"), remembered \(DurationText.format(i.ttl?.value ?? IdempotencyPolicy.defaultTTL))"
                + (i.isRequired ? ", missing → \(i.errorCode?.value ?? IdempotencyPolicy.defaultErrorCode)" : "")
        }
        let now = Date()
        triggers = Triggers(
            apiPath: p.triggers.api?.path.value,
            schedules: p.triggers.schedules.map { s in
                let tz = s.timezone?.value ?? "UTC"
                let next = TimeZone(identifier: tz).flatMap { s.cron.value.nextFire(after: now, in: $0) }
                return Schedule(cron: s.cron.value.source, timezone: tz, next: next.map { $0.formatted(.iso8601) })
            },
            git: p.triggers.git.map { g in
                "\(g.events.map(\.rawValue).joined(separator: ", ")) on \(g.refs.map(\.value).joined(separator: ", "))"
                    + (g.param.map { " → params.\($0.value)" } ?? "")
            })
        let context = EvaluationContext(params: values)
        let build = { (section: PipelineGraph.SectionKind) -> [Step] in
            validated.graph.executionOrder(of: section).map { Self.step($0, validated, context) }
        }
        main = build(.main)
        rollback = build(.rollback)
        finally = build(.finally)
        commitPoints = p.stages.flatMap(\.steps).filter(\.isCommitPoint).map(\.name.value)
        _ = environment
    }

    private static func step(_ index: Int, _ v: ValidatedPipeline, _ context: EvaluationContext) -> Step {
        let s = v.steps[index]
        let policy = StepPolicy(step: s, pipeline: v.pipeline)
        let node = v.graph.nodes[index]
        var stageName: String?, afterStage: String?
        if case .main(let stage) = s.section {
            stageName = v.pipeline.stages[stage].name.value
            var previous = stage - 1
            while previous >= 0, v.pipeline.stages[previous].steps.isEmpty { previous -= 1 }
            if previous >= 0 { afterStage = v.pipeline.stages[previous].name.value }
        }
        let conditionValue = s.condition.flatMap {
            ExpressionEvaluator.partiallyEvaluate($0.root, params: context.params).map(ExpressionEvaluator.isTrue)
        }
        var forEachText: String?, instances: [String]?
        switch s.forEach {
        case .expression(let e)?:
            forEachText = e.text
            if case .list(let items) = ExpressionEvaluator.evaluate(e.root, in: context) {
                instances = items.compactMap(\.environmentText).map { s.stepName.instance($0).rawValue }
            }
        case .items(let items)?:
            forEachText = "[" + items.compactMap(\.value.environmentText).joined(separator: ", ") + "]"
            instances = items.compactMap(\.value.environmentText).map { s.stepName.instance($0).rawValue }
        case nil:
            break
        }
        return Step(
            name: s.name.value, stage: stageName, wave: node.level + 1, needs: s.needs.map(\.value), afterStage: afterStage,
            run: s.run.value, shell: policy.shell.argv, workdir: policy.workdir,
            timeout: policy.timeout.map(DurationText.format), retry: policy.retry.summary,
            errors: policy.errorClasses.map {
                ErrorClass(match: $0.matcherSummary, code: $0.code, retry: $0.retry.summary, origin: $0.origin.rawValue)
            },
            condition: s.condition?.text, conditionValue: conditionValue, forEach: forEachText, instances: instances,
            outputs: s.outputs.map(\.value),
            env: Dictionary((v.pipeline.env + s.env).map { ($0.name.value, Self.shown($0)) }, uniquingKeysWith: { _, step in step }),
            commitPoint: s.isCommitPoint, continueOnError: s.continuesOnError,
            allowPartial: s.allowsPartial)
    }

    /// An env entry as `plan` shows it: a `from_env` one by where it comes from, never its value.
    static func shown(_ entry: EnvironmentEntry) -> String {
        guard let source = entry.fromEnvironment else { return entry.value }
        return "$\(source.value) (the runner's environment\(entry.isSecret ? ", secret" : ""))"
    }
}
