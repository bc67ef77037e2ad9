import FoundationEssentials
import RunnerCore

/// The files of one attempt, which share a stem: its log, and the `RUNNER_OUTPUT` and
/// `RUNNER_PROGRESS` files the step writes (absent while it writes none).
struct AttemptFiles: Sendable {
    let stem: String

    var log: String { stem + ".log" }
    var output: String { stem + ".output" }
    var progress: String { stem + ".progress" }
}

/// The directory a run's steps run in and their `workdir` is relative to: the pipeline's
/// folder, or the run's workspace checkout. Its path is made once (a launch joins onto it).
struct PipelineDirectory: Sendable {
    let url: URL
    let path: String

    init(_ url: URL) {
        self.url = url
        path = url.path
    }
}

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
