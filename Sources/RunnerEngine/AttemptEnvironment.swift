import RunnerCore

/// The environment of a run's attempts. What every step of the run gets is built once: the
/// runner's environment, the pipeline's variables, `RUNNER_PIPELINE_DIR` (and
/// `RUNNER_WORKSPACE`), the params, and the run's own `RUNNER_*`. An attempt's adds to it the
/// step's variables (under the params and the run's own: a step cannot shadow them), the
/// outputs of the steps it needs, its item, and the attempt's own `RUNNER_*`. Pure: no I/O.
struct AttemptEnvironment: Sendable {
    /// The variables only an attempt has: the shared environment leaves them out.
    static let attemptVariables: Set<String> = ["RUNNER_STEP", "RUNNER_ATTEMPT", "RUNNER_OUTPUT", "RUNNER_PROGRESS",
                                                "RUNNER_ATTEMPT_ID"]

    /// What the run's environment is made of, known before its workspace is checked out.
    struct Parts: Sendable {
        /// The runner's environment with the pipeline's variables and `RUNNER_PIPELINE_DIR`.
        var variables: [String: String]
        /// Each param's variable, and a gitref param's commit (`PARAM_<NAME>_SHA`).
        var params: [(name: String, value: String)]
        /// The values to mask: secret params (each item of a secret list too) and secret
        /// `from_env` variables.
        var secrets: [String]
    }

    /// A `from_env` variable the run needs is not set in the runner's environment.
    struct MissingVariable: Error, CustomStringConvertible {
        var description: String
    }

    /// The attempt's own variables.
    struct Attempt: Sendable {
        var name: StepName
        var serial: Int
        var files: AttemptFiles
        /// `RUNNER_ATTEMPT_ID`: finds the attempt's processes again after the runner died.
        var marker: String
    }

    /// The runner's own environment: a step's `from_env` variables read it.
    let runner: [String: String]
    /// What every step of the run starts from.
    let base: [String: String]
    /// The names a step's `env` cannot set: the params' and the run's own `RUNNER_*`.
    let reserved: Set<String>
    /// `base` without the attempt's own variables: the launches of steps that add nothing but
    /// those share it (its C strings are made once per run).
    let shared: SharedEnvironment

    /// The parts of the run's environment, or what is missing. `secretParams`: the names the
    /// run was stored with, besides those the pipeline declares secret.
    static func parts(of pipeline: Pipeline, params: [String: Value], refs: [String: RecordedRef],
                      secretParams: Set<String>, runner: [String: String],
                      pipelineDirectory: String) -> Result<Parts, MissingVariable> {
        var variables = runner
        for entry in pipeline.env { variables[entry.name.value] = entry.resolved(in: runner) }
        var secrets: [String] = []
        for entry in pipeline.env + pipeline.allSteps.flatMap(\.env) {
            guard let source = entry.fromEnvironment else { continue }
            guard let value = runner[source.value] else {
                guard entry.isRequired else { continue }
                return .failure(MissingVariable(description: "env \(entry.name.value) takes the runner's environment "
                    + "variable \(source.value), which is not set (set it where the runner runs, or declare it "
                    + "`required: false`)"))
            }
            if entry.isSecret { secrets.append(value) }
        }
        variables["RUNNER_PIPELINE_DIR"] = pipelineDirectory
        var paramVariables: [(name: String, value: String)] = []
        for spec in pipeline.params {
            guard let value = params[spec.name.value], let text = value.environmentText else { continue }
            paramVariables.append((spec.environmentName, text))
            if spec.isSecret || secretParams.contains(spec.name.value) {
                secrets.append(text)
                if case .list(let items) = value { secrets += items.compactMap(\.environmentText) }
            }
            // A gitref param's commit, resolved when the run was created.
            if let ref = refs[spec.name.value] { paramVariables.append((spec.environmentName + "_SHA", ref.sha)) }
        }
        return .success(Parts(variables: variables, params: paramVariables, secrets: secrets))
    }

    /// The run's environment from its parts; `workspace`: the run's checkout, when it has one.
    init(_ parts: Parts, run: RunRecord, workspace: String?, runner: [String: String]) {
        var environment = parts.variables
        if let workspace { environment["RUNNER_WORKSPACE"] = workspace }
        for (name, value) in parts.params { environment[name] = value }
        let own = ["RUNNER_RUN_ID": run.id.rawValue, "RUNNER_PIPELINE": run.pipeline,
                   "RUNNER_TRIGGER": run.trigger.rawValue, "RUNNER_ACTOR": run.actor ?? ""]
        environment.merge(own) { $1 }
        self.runner = runner
        base = environment
        reserved = Set(parts.params.map(\.name)).union(own.keys)
        shared = SharedEnvironment(environment.filter { !Self.attemptVariables.contains($0.key) })
    }

    /// One attempt's environment. A step that adds nothing but the attempt's own variables
    /// gets only those, with `shared` to start from; any other gets all of it.
    func environment(for step: Step, _ request: RunScheduler.LaunchRequest,
                     _ attempt: Attempt) -> (variables: [String: String], shared: SharedEnvironment?) {
        let isPlain = step.env.isEmpty && request.visibleOutputs.isEmpty && request.item == nil
        var variables = isPlain ? [:] : base
        for entry in step.env where !reserved.contains(entry.name.value) {
            variables[entry.name.value] = entry.resolved(in: runner)
        }
        for (producer, key, value) in request.visibleOutputs {
            variables["STEP_\(NameRules.environmentName(producer))_\(NameRules.environmentName(key))"] = value
        }
        if let item = request.item { variables["ITEM"] = item }
        variables["RUNNER_STEP"] = attempt.name.rawValue
        variables["RUNNER_ATTEMPT"] = String(attempt.serial)
        variables["RUNNER_OUTPUT"] = attempt.files.output
        variables["RUNNER_PROGRESS"] = attempt.files.progress
        variables["RUNNER_ATTEMPT_ID"] = attempt.marker
        return (variables, isPlain ? shared : nil)
    }
}
