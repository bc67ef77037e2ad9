import FoundationEssentials
import RunnerCore
import RunnerJSON

/// Writes a contract template as JSON: each leaf expression evaluated over the facts, objects
/// in the order the YAML wrote their keys, loops once per run or step record. Pure: the
/// server gathers the facts, this only writes them.
public struct ContractRenderer: Sendable {
    public let contract: APIContract
    let timeFormat: TimeFormat

    public init(contract: APIContract) {
        self.contract = contract
        self.timeFormat = contract.timeFormat?.value ?? .rfc3339
    }

    /// The body for `template` about `run` (and, in a list, `runs`).
    public func render(_ template: ContractTemplate, request: RequestFacts, run: RunFacts? = nil, runs: [RunFacts] = [],
                       error: ErrorFacts? = nil) -> [UInt8] {
        var context = EvaluationContext()
        addRequest(request, to: &context)
        if let error { addError(error, to: &context) }
        if let run { addRun(run, to: &context) }
        let scope = Scope(context: context, run: run, runs: runs)
        return JSONWriter.document { json in write(template, scope, to: &json) }
    }

    struct Scope {
        var context: EvaluationContext
        var run: RunFacts?
        var runs: [RunFacts]
    }

    private func write(_ template: ContractTemplate, _ scope: Scope, to json: inout JSONWriter) {
        switch template {
        case .value(let expression):
            ExpressionEvaluator.evaluate(expression.root, in: scope.context).write(to: &json)
        case .object(let members):
            json.beginObject()
            for member in members {
                json.key(text: member.key)
                write(member.value, scope, to: &json)
            }
            json.endObject()
        case .array(let items):
            json.beginArray()
            for item in items { write(item, scope, to: &json) }
            json.endArray()
        case .each(let loop):
            json.beginArray()
            writeLoop(loop, scope, to: &json)
            json.endArray()
        case .choice(let condition, let then, let otherwise):
            if ExpressionEvaluator.evaluate(condition.root, in: scope.context) == .bool(true) {
                write(then, scope, to: &json)
            } else if let otherwise {
                write(otherwise, scope, to: &json)
            } else {
                Value.null.write(to: &json)
            }
        }
    }

    private func writeLoop(_ loop: ContractLoop, _ scope: Scope, to json: inout JSONWriter) {
        switch loop.source.value {
        case .runs:
            for run in scope.runs {
                var inner = Scope(context: scope.context, run: run, runs: [])
                addRun(run, to: &inner.context)
                write(loop.item, inner, to: &json)
            }
        case .steps, .instances:
            guard let run = scope.run else { return }
            let only = Set(loop.only.map(\.value))
            for record in run.stored.steps.sorted(by: { $0.position < $1.position }) {
                if case .instances(let name) = loop.source.value, record.step != name { continue }
                if !only.isEmpty, !only.contains(record.step) { continue }
                var inner = scope
                addStep(record, run: run.stored.run, to: &inner.context)
                write(loop.item, inner, to: &json)
            }
        }
    }

    // MARK: - Fields

    private func time(_ date: Date?) -> Value { date.map { .string(timeFormat.format($0)) } ?? .null }

    private func text(_ string: String?) -> Value { string.map(Value.string) ?? .null }

    func addRequest(_ request: RequestFacts, to context: inout EvaluationContext) {
        context.fields["request.actor"] = text(request.actor)
        context.fields["request.method"] = .string(request.method)
        for (name, value) in request.path { context.fields["request.path.\(name)"] = .string(value) }
        context.params = request.params
    }

    func addError(_ error: ErrorFacts, to context: inout EvaluationContext) {
        context.fields["error.status"] = .int(error.status)
        context.fields["error.code"] = .string(error.code)
        context.fields["error.message"] = .string(error.message)
        context.fields["error.param"] = text(error.param)
    }

    func addRun(_ facts: RunFacts, to context: inout EvaluationContext) {
        let run = facts.stored.run
        let fields: [String: Value] = [
            "run.id": .string(run.id.rawValue), "run.pipeline": .string(run.pipeline),
            "run.status": .string(contract.runStatuses?.word(for: run.status.rawValue) ?? run.status.rawValue),
            "run.state": .string(run.status.rawValue), "run.trigger": .string(run.trigger.rawValue),
            "run.actor": text(run.actor), "run.created_at": time(run.createdAt), "run.started_at": time(run.startedAt),
            "run.finished_at": time(run.finishedAt), "run.updated_at": time(run.updatedAt),
            "run.error_code": text(run.errorCode), "run.error_message": text(run.errorMessage),
            "run.retryable": .bool(facts.retryable), "run.progress": .int(facts.progress),
            "run.progress_message": text(facts.progressMessage),
        ]
        context.fields.merge(fields) { _, new in new }
        context.params = run.shownParams
        context.stepStatuses = [:]
        context.stepOutputs = [:]
        for (name, records) in Dictionary(grouping: facts.stored.steps, by: \.step) {
            addStepByName(name, records, to: &context)
        }
    }

    /// `steps.NAME.*`: the step's record; for a for_each step, its instances summed up (the
    /// status a whole step would have, outputs only of a single record).
    private func addStepByName(_ name: String, _ records: [StepRecord], to context: inout EvaluationContext) {
        let status = StepStatus.combined(records.lazy.map(\.status))
        context.stepStatuses[name] = status
        guard records.count == 1, let record = records.first else { return }
        context.stepOutputs[name] = record.outputs
        let prefix = "steps.\(name)."
        context.fields[prefix + "progress"] = record.progress.map(Value.int) ?? .null
        context.fields[prefix + "progress_message"] = text(record.progressMessage)
        context.fields[prefix + "error_code"] = text(record.errorCode)
        context.fields[prefix + "error_message"] = text(record.errorMessage)
        context.fields[prefix + "started_at"] = time(record.startedAt)
        context.fields[prefix + "finished_at"] = time(record.finishedAt)
        context.fields[prefix + "attempts"] = .int(record.attempts)
    }

    func addStep(_ record: StepRecord, run: RunRecord, to context: inout EvaluationContext) {
        let fields: [String: Value] = [
            "step.id": .string("\(run.id.rawValue).\(record.position)"), "step.name": .string(record.name.rawValue),
            "step.step": .string(record.step), "step.item": text(record.item), "step.section": .string(record.section),
            "step.status": .string(contract.stepStatuses?.word(for: record.status.rawValue) ?? record.status.rawValue),
            "step.state": .string(record.status.rawValue), "step.attempts": .int(record.attempts),
            "step.error_code": text(record.errorCode), "step.error_message": text(record.errorMessage),
            "step.progress": record.progress.map(Value.int) ?? .null, "step.progress_message": text(record.progressMessage),
            "step.started_at": time(record.startedAt), "step.finished_at": time(record.finishedAt),
        ]
        context.fields = context.fields.filter { !$0.key.hasPrefix("step.") }.merging(fields) { _, new in new }
        for (name, value) in record.outputs { context.fields["step.outputs.\(name)"] = .string(value) }
    }
}
