/// Checks a decoded pipeline as a whole: names, the DAG, expressions, policies, triggers.
/// Collects every diagnostic before returning (XcodeGen's SpecValidation does the same).
public struct PipelineValidator: Sendable {
    let pipeline: Pipeline
    let steps: [Step]
    let graph: PipelineGraph
    /// For each step, the node each of its `needs` names (-1: none); see `PipelineGraph.resolving`.
    let needTargets: [[Int32]]
    let paramsByName: [String: ParamSpec]
    let stepNames: [String]
    var diagnostics: [Diagnostic] = []

    init(pipeline: Pipeline) {
        self.pipeline = pipeline
        self.steps = pipeline.allSteps
        (self.graph, self.needTargets) = PipelineGraph.resolving(pipeline: pipeline, steps: steps)
        self.paramsByName = Dictionary(pipeline.params.map { ($0.name.value, $0) }, uniquingKeysWith: { a, _ in a })
        self.stepNames = steps.map(\.name.value)
    }

    /// The validated pipeline when there are no errors, and every diagnostic found.
    public static func validate(_ pipeline: Pipeline) -> (pipeline: ValidatedPipeline?, diagnostics: [Diagnostic]) {
        let (graph, found) = check(pipeline)
        let diagnostics = found.sortedByLocation()
        if diagnostics.hasErrors { return (nil, diagnostics) }
        return (ValidatedPipeline(pipeline: pipeline, graph: graph, warnings: diagnostics), diagnostics)
    }

    /// Every diagnostic, errors and warnings, in the order found.
    public static func check(_ pipeline: Pipeline) -> (PipelineGraph, [Diagnostic]) {
        var validator = PipelineValidator(pipeline: pipeline)
        validator.run()
        return (validator.graph, validator.diagnostics)
    }

    mutating func report(_ code: DiagnosticCode, _ message: String, at location: SourceLocation?, length: Int = 1,
                         hint: String? = nil, notes: [Diagnostic.Note] = [], severity: Diagnostic.Severity? = nil) {
        diagnostics.append(Diagnostic(code, message, at: location, length: length, hint: hint ?? code.help,
                                      notes: notes, severity: severity))
    }

    mutating func run() {
        checkHeader()
        checkParams()
        checkEnvironment(pipeline.env, owner: "pipeline")
        checkDefaults()
        checkStructure()
        checkNeeds()
        checkCycles()
        checkSteps()
        checkErrorClasses(pipeline.errors, owner: "the pipeline's errors")
        checkRollback()
        checkPolicies()
        checkProgress()
        checkTriggers()
        checkContract()
    }

    private mutating func checkHeader() {
        if pipeline.version.value != 1 {
            report(.unsupportedVersion, "unsupported format version \(pipeline.version.value)", at: pipeline.version.location,
                   hint: "this runner reads version 1")
        }
        if !NameRules.isPipelineName(pipeline.name.value) {
            report(.invalidName, "invalid pipeline name '\(pipeline.name.value)'", at: pipeline.name.location,
                   length: pipeline.name.value.count,
                   hint: "pipeline names are lowercase: [a-z0-9][a-z0-9_-]*, at most \(NameRules.maxLength) characters")
        }
        if let retention = pipeline.retention, retention.value <= .zero {
            report(.invalidValue, "retention must be longer than 0s", at: retention.location)
        }
    }

    /// `defaults:` holds the step keys of the same name, under the same rules: a value a step
    /// would be refused for is refused here, even before any step inherits it.
    private mutating func checkDefaults() {
        let defaults = pipeline.defaults
        checkRunSettings(shell: defaults.shell, workdir: defaults.workdir, timeout: defaults.timeout, retry: defaults.retry,
                         owner: "the defaults")
    }

    // MARK: - Structure

    private mutating func checkStructure() {
        if !pipeline.stages.isEmpty, pipeline.stages.allSatisfy({ $0.steps.isEmpty }) {
            report(.emptyPipeline, "pipeline '\(pipeline.name.value)' has no steps", at: pipeline.location)
        }
        var stageNames: [String: SourceLocation] = [:]
        for stage in pipeline.stages {
            if !NameRules.isStepName(stage.name.value) {
                report(.invalidName, "invalid stage name '\(stage.name.value)'", at: stage.name.location,
                       length: stage.name.value.count, hint: DiagnosticCode.invalidName.help)
            }
            if let first = stageNames[stage.name.value] {
                report(.duplicateStage, "duplicate stage name '\(stage.name.value)'", at: stage.name.location,
                       notes: [.init("first defined here", at: first)])
            } else {
                stageNames[stage.name.value] = stage.name.location
            }
            if stage.steps.isEmpty, pipeline.stages.count > 1 {
                report(.emptyPipeline, "stage '\(stage.name.value)' has no steps", at: stage.name.location)
            }
        }
        var stepNames: [String: (location: SourceLocation, section: StepSection)] = [:]
        stepNames.reserveCapacity(steps.count)
        for step in steps {
            if !NameRules.isStepName(step.name.value) {
                report(.invalidName, "invalid step name '\(step.name.value)'", at: step.name.location,
                       length: step.name.value.count,
                       hint: "step names use [A-Za-z_][A-Za-z0-9_-]*, at most \(NameRules.maxLength) characters")
            }
            if let first = stepNames[step.name.value] {
                report(.duplicateStep, "duplicate step name '\(step.name.value)'", at: step.name.location,
                       length: step.name.value.count,
                       notes: [.init("first defined here (\(first.section) steps)", at: first.location)])
            } else {
                stepNames[step.name.value] = (step.name.location, step.section)
            }
        }
        checkStepEnvironmentNames()
    }

    /// `STEP_<STEP>_<OUTPUT>` must name one output only: `a-b` and `a_b` would collide.
    private mutating func checkStepEnvironmentNames() {
        var owners: [String: (String, SourceLocation)] = [:]
        for step in steps {
            for output in step.outputs {
                let variable = "STEP_\(NameRules.environmentName(step.name.value))_\(NameRules.environmentName(output.value))"
                if let (other, location) = owners[variable], other != "\(step.name.value).\(output.value)" {
                    report(.invalidEnvName, "output '\(step.name.value).\(output.value)' and '\(other)' both become $\(variable)",
                           at: output.location, hint: "rename the step or the output",
                           notes: [.init("'\(other)' is declared here", at: location)])
                } else {
                    owners[variable] = ("\(step.name.value).\(output.value)", output.location)
                }
            }
        }
    }

    // MARK: - Needs and cycles

    private mutating func checkNeeds() {
        // listedBy[t] == i: step i already listed step t (a needs list may be a whole layer of
        // 100 steps: no per-step set, no quadratic scan). Unknown names are few: an array.
        var listedBy = Array(repeating: -1, count: steps.count)
        for (index, step) in steps.enumerated() {
            var unknownSeen: [String] = []
            for (k, need) in step.needs.enumerated() {
                let target = needTargets[index][k] >= 0 ? Int(needTargets[index][k]) : nil
                let duplicate: Bool
                if let target {
                    duplicate = listedBy[target] == index
                    listedBy[target] = index
                } else {
                    duplicate = unknownSeen.contains(need.value)
                    if !duplicate { unknownSeen.append(need.value) }
                }
                if duplicate {
                    report(.duplicateEntry, "step '\(step.name.value)' lists '\(need.value)' in needs twice", at: need.location,
                           length: need.value.count)
                    continue
                }
                guard let target else {
                    let candidates = steps.filter { PipelineGraph.isValidEdge(from: step.section, to: $0.section) }.map(\.name.value)
                    report(.unknownNeed, "step '\(step.name.value)' needs unknown step '\(need.value)'", at: need.location,
                           length: need.value.count,
                           hint: Suggestion.hint(for: need.value, in: candidates) ?? DiagnosticCode.unknownNeed.help)
                    continue
                }
                let targetStep = steps[target]
                switch (step.section, targetStep.section) {
                case let (.main(a), .main(b)) where b > a:
                    report(.laterStageNeed,
                           "step '\(step.name.value)' (stage '\(pipeline.stages[a].name.value)') needs '\(need.value)' of the later stage '\(pipeline.stages[b].name.value)'",
                           at: need.location, length: need.value.count,
                           notes: [.init("'\(need.value)' is defined here", at: targetStep.name.location)])
                case (.main, .main), (.rollback, .rollback), (.finally, .finally):
                    break
                default:
                    report(.crossSectionNeed,
                           "\(step.section) step '\(step.name.value)' needs \(targetStep.section) step '\(need.value)'",
                           at: need.location, length: need.value.count,
                           hint: step.section.isMain ? "main steps cannot wait for rollback or finally steps"
                               : "\(step.section) steps run after the main steps have finished; they may read `steps.\(need.value)` without needing it")
                }
                _ = index
            }
        }
    }

    private mutating func checkCycles() {
        for cycle in graph.cycles() {
            let names = cycle.map { graph.nodes[$0].name }
            // Point at the first edge of the path: in the first step's needs, the second step.
            let first = steps[cycle[0]]
            let location = first.needs.first { $0.value == names[1] }?.location ?? first.name.location
            let message = cycle.count == 2
                ? "dependency cycle: step '\(names[0])' needs itself"
                : "dependency cycle: " + names.joined(separator: " -> ")
            report(.dependencyCycle, message, at: location, length: names[1].count,
                   hint: cycle.count == 2 ? "remove '\(names[0])' from its own needs" : "remove one of the 'needs' edges on the cycle",
                   notes: cycle.dropLast().map { .init("'\(graph.nodes[$0].name)' is defined here", at: steps[$0].name.location) })
        }
    }

    // MARK: - Rollback and commit points

    private mutating func checkRollback() {
        let commitPoints = steps.filter { $0.isCommitPoint && $0.section.isMain }
        for step in steps where step.isCommitPoint && !step.section.isMain {
            report(.ineffectiveSetting, "commit_point has no effect on \(step.section) step '\(step.name.value)'",
                   at: step.name.location, hint: "only main steps can be commit points")
        }
        if !pipeline.rollback.isEmpty, commitPoints.isEmpty {
            report(.ineffectiveSetting, "rollback steps can never run: no main step is a commit_point",
                   at: pipeline.rollback[0].location, hint: "mark the step after which a failure must be undone with `commit_point: true`")
        }
        if pipeline.rollback.isEmpty, let first = commitPoints.first {
            report(.ineffectiveSetting, "commit_point has no effect: the pipeline has no rollback steps",
                   at: first.name.location, hint: "add `rollback: {steps: [...]}` or remove `commit_point`")
        }
    }
}
