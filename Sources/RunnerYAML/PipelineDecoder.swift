import RunnerCore

/// Turns a located node tree into a typed `Pipeline`, reporting every shape problem:
/// unknown keys with suggestions, wrong types, missing keys, bad durations, cron expressions
/// and expression syntax. Whole-pipeline checks are `PipelineValidator`'s job.
public enum PipelineDecoder {
    public struct Output: Sendable {
        /// Nil only when the root is not a mapping.
        public var pipeline: Pipeline?
        public var diagnostics: [Diagnostic]
    }

    static let topLevelKeys = ["version", "name", "description", "params", "concurrency", "idempotency", "triggers",
                               "env", "defaults", "retention", "workspace", "progress", "errors", "stages", "steps",
                               "rollback", "finally", "api"]

    public static func decode(_ root: YAMLNode, file: String) -> Output {
        var context = DecodingContext(file: file)
        let pipeline = context.decodePipeline(root)
        return Output(pipeline: pipeline, diagnostics: context.diagnostics)
    }
}

extension DecodingContext {
    mutating func decodePipeline(_ root: YAMLNode) -> Pipeline? {
        guard case .mapping = root.content else {
            report(.wrongType, "a pipeline must be a mapping of keys like 'version', 'name' and 'steps', not \(root.resolvedKind.description)",
                   at: root.location, hint: "start the file with `version: 1`")
            return nil
        }
        guard let fields = fields(root, "the pipeline", allowed: PipelineDecoder.topLevelKeys, allowsExtensions: true) else { return nil }
        let version = require(fields, "version", "the pipeline").flatMap { node in int(node, "'version'").map { Located($0, at: node.location) } }
        let name = string(fields, "name", "the pipeline", required: true)
        var pipeline = Pipeline(file: file, location: root.location,
                                version: version ?? Located(1, at: root.location),
                                name: name ?? Located("", at: root.location))
        if name == nil { pipeline.name = Located("pipeline", at: root.location) }
        pipeline.description = string(fields, "description", "the pipeline")?.value
        if let node = fields["params"] { pipeline.params = decodeParams(node) }
        if let node = fields["concurrency"] { pipeline.concurrency = decodeConcurrency(node) }
        if let node = fields["idempotency"] { pipeline.idempotency = decodeIdempotency(node) }
        if let node = fields["triggers"] { pipeline.triggers = decodeTriggers(node) }
        if let node = fields["env"] { pipeline.env = decodeEnvironment(node, "the pipeline's env") }
        if let node = fields["defaults"] { pipeline.defaults = decodeDefaults(node) }
        pipeline.retention = duration(fields, "retention", "the pipeline")
        if let node = fields["workspace"] { pipeline.workspace = decodeWorkspace(node) }
        if let node = fields["progress"] { pipeline.progress = decodeProgress(node) }
        if let node = fields["errors"] { pipeline.errors = decodeErrorClasses(node, "the pipeline's errors") }
        decodeStages(fields, into: &pipeline)
        if let node = fields["rollback"] { pipeline.rollback = decodeSection(node, "rollback", section: .rollback) }
        if let node = fields["finally"] { pipeline.finally = decodeSection(node, "finally", section: .finally) }
        if let node = fields["api"] { pipeline.contract = decodeContract(node) }
        return pipeline
    }

    private mutating func decodeStages(_ fields: Fields, into pipeline: inout Pipeline) {
        switch (fields["stages"], fields["steps"]) {
        case (let stages?, let steps?):
            report(.conflictingKeys, "the pipeline has both 'stages' and 'steps'", at: fields.keyNode("steps")?.location ?? steps.location,
                   hint: "use 'stages' for several stages, or 'steps' alone for one",
                   notes: [.init("'stages' is here", at: fields.keyNode("stages")?.location ?? stages.location)])
            pipeline.stages = decodeStageList(stages)
        case (let stages?, nil):
            pipeline.stages = decodeStageList(stages)
        case (nil, let steps?):
            let name = Located("main", at: steps.location)
            let list = decodeSteps(steps, "the pipeline's steps", section: .main(stage: 0))
            pipeline.stages = [Stage(name: name, steps: list)]
            pipeline.usesStepsShorthand = true
        case (nil, nil):
            report(.missingField, "the pipeline has neither 'stages' nor 'steps'", at: fields.node.location,
                   hint: "add `steps:` with at least one step")
        }
    }

    private mutating func decodeStageList(_ node: YAMLNode) -> [Stage] {
        guard let items = list(node, "'stages'") else { return [] }
        if items.isEmpty {
            report(.emptyPipeline, "'stages' is empty: the pipeline has no steps", at: node.location,
                   hint: "add a stage with at least one step, or write `steps:` for a single stage")
        }
        var stages: [Stage] = []
        var work: [(node: YAMLNode, section: StepSection)] = []
        var counts: [Int] = []
        for item in items {
            let index = stages.count
            guard let f = fields(item, "a stage", allowed: ["name", "description", "steps"]) else { continue }
            let name = string(f, "name", "a stage", required: true) ?? Located("stage\(index + 1)", at: item.location)
            stages.append(Stage(name: name, description: string(f, "description", "stage '\(name.value)'")?.value))
            var stepNodes: [YAMLNode] = []
            if let steps = require(f, "steps", "stage '\(name.value)'") {
                stepNodes = list(steps, "the steps of stage '\(name.value)'") ?? []
            }
            work += stepNodes.map { ($0, .main(stage: index)) }
            counts.append(stepNodes.count)
        }
        var decoded = decodeSteps(work)[...]
        for index in stages.indices {
            stages[index].steps = decoded.prefix(counts[index]).compactMap { $0 }
            decoded = decoded.dropFirst(counts[index])
        }
        return stages
    }

    private mutating func decodeSection(_ node: YAMLNode, _ name: String, section: StepSection) -> [Step] {
        if case .sequence = node.content {
            report(.wrongType, "'\(name)' must be a mapping with 'steps', not a list", at: node.location,
                   hint: "write `\(name): {steps: [...]}`")
            return []
        }
        guard let f = fields(node, "'\(name)'", allowed: ["steps"]), let steps = require(f, "steps", "'\(name)'") else { return [] }
        return decodeSteps(steps, "the \(name) steps", section: section)
    }

    mutating func decodeEnvironment(_ node: YAMLNode, _ what: @autoclosure () -> String) -> [EnvironmentEntry] {
        guard case .mapping(let pairs) = node.content else {
            wrongType(node, what(), expected: "a mapping of NAME: value")
            return []
        }
        return pairs.compactMap { pair in
            if case .mapping = pair.value.content { return decodeEnvironmentSource(pair, what()) }
            guard let value = scalarText(pair.value, "\(what()) '\(pair.name)'") else { return nil }
            // Each entry reaches a step as one `NAME=value` string of its environment.
            checkExecString(value, prefix: pair.name + "=", "\(what()) '\(pair.name)'", at: pair.value.location)
            return EnvironmentEntry(name: Located(pair.name, at: pair.key.location), value: value)
        }
    }

    /// `NAME: {from_env: VAR, secret: true, required: false}`. A value written in the file
    /// cannot be secret: it would be stored with every run's definition.
    mutating func decodeEnvironmentSource(_ pair: YAMLPair, _ what: String) -> EnvironmentEntry? {
        let owner = "\(what) '\(pair.name)'"
        if case .mapping(let inner) = pair.value.content, let value = inner.first(where: { $0.name == "value" }) {
            report(.invalidValue, "\(owner) cannot take `value`: a value written in the pipeline is stored with every run",
                   at: value.key.location, length: 5,
                   hint: "write the value itself (`\(pair.name): text`), or take a secret from the runner's environment: "
                       + "`\(pair.name): {from_env: VAR, secret: true}`")
            return nil
        }
        guard let f = fields(pair.value, owner, allowed: ["from_env", "secret", "required"]),
              let source = string(f, "from_env", owner, required: true) else { return nil }
        var entry = EnvironmentEntry(name: Located(pair.name, at: pair.key.location), value: "")
        entry.fromEnvironment = source
        entry.isSecret = bool(f, "secret", owner) ?? false
        entry.isRequired = bool(f, "required", owner) ?? true
        return entry
    }

    private mutating func decodeDefaults(_ node: YAMLNode) -> StepDefaults {
        var defaults = StepDefaults()
        guard let f = fields(node, "'defaults'", allowed: ["timeout", "retry", "shell", "workdir"]) else { return defaults }
        defaults.timeout = duration(f, "timeout", "'defaults'")
        defaults.retry = f["retry"].flatMap { decodeRetry($0, "'retry' of 'defaults'") }
        defaults.shell = f["shell"].flatMap { decodeShell($0, "'shell' of 'defaults'") }
        defaults.workdir = string(f, "workdir", "'defaults'")
        return defaults
    }
}
