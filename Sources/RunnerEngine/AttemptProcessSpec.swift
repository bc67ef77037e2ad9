import FoundationEssentials
import RunnerCore

/// What to start for one attempt: the step's script under its shell, in its working
/// directory, with the attempt's environment, output to its log. Pure: the working directory
/// is the lexical one (the executor resolves and confines it when the attempt starts).
enum AttemptProcessSpec {
    static func make(_ step: Step, _ request: RunScheduler.LaunchRequest, attempt: AttemptEnvironment.Attempt,
                     environment: AttemptEnvironment, pipelineDirectory: PipelineDirectory, masker: SecretMasker,
                     echo: (@Sendable (String, Bool) -> Void)?) -> ProcessSpec {
        let (variables, shared) = environment.environment(for: step, request, attempt)
        var spec = ProcessSpec(argv: request.policy.shell.argv + [step.run.value], environment: variables,
                               workingDirectory: workdir(request.policy.workdir, in: pipelineDirectory),
                               logPath: attempt.files.log, masker: masker, echo: echo)
        spec.shared = shared
        return spec
    }

    /// The step's working directory before it is resolved: `workdir` joined to the pipeline's
    /// directory and standardized, or that directory itself.
    static func workdir(_ workdir: String?, in pipelineDirectory: PipelineDirectory) -> String {
        guard let workdir else { return pipelineDirectory.path }
        return pipelineDirectory.url.appendingPathComponent(workdir).standardizedFileURL.path
    }
}
