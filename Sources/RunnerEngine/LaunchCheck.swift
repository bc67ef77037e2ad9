import FoundationEssentials
import RunnerCore

/// The params of a new run, checked against the pipeline's declarations (defaults applied),
/// its gitref params resolved to commits and its path params checked on disk: what every
/// front door does before admitting a run. Every problem is returned, with the param's own error code.
public enum LaunchCheck {
    public struct Checked: Sendable {
        public var params: [String: Value]
        public var refs: [String: RecordedRef]

        public init(params: [String: Value], refs: [String: RecordedRef]) {
            self.params = params
            self.refs = refs
        }
    }

    /// Every problem found, each with the param's own code when it declares one.
    public struct Problems: Error, Sendable {
        public var diagnostics: [Diagnostic]
    }

    /// `repositories` overrides a gitref param's `repo` (a hook resolves in its repository);
    /// `actor` and `environment` expand the roots of path params (`PathParams`).
    public static func check(_ inputs: [(name: String, input: ParamInput)], for pipeline: ValidatedPipeline, pipelineFile: String,
                             repositories: [String: String] = [:], actor: String? = nil,
                             environment: [String: String] = [:], git: any RefResolver) -> Result<Checked, Problems> {
        let resolution = ParamResolver.resolve(inputs, against: pipeline.pipeline.params)
        let errors = resolution.diagnostics.filter(\.isError)
        guard errors.isEmpty else { return .failure(Problems(diagnostics: errors)) }
        let resolved = GitRefs.resolve(pipeline, params: resolution.values, pipelineFile: pipelineFile,
                                       repositories: repositories, git: git)
        let paths = PathParams.check(pipeline, params: resolution.values, pipelineFile: pipelineFile, actor: actor,
                                     environment: environment)
        let problems = resolved.diagnostics + paths
        guard problems.isEmpty else { return .failure(Problems(diagnostics: problems)) }
        return .success(Checked(params: resolution.values, refs: resolved.refs))
    }
}
