import FoundationEssentials
import RunnerCore

/// `gitref` params: resolved to a commit when a run is created (every front door calls this
/// before admitting a run), and the workspace checked out from that commit when it starts.
/// Git is reached through the `RefResolver` port only (`GitRefs.libgit2` unless given).
public enum GitRefs {
    /// The repository a gitref param names: `repo` relative to the pipeline file's directory,
    /// or absolute.
    public static func repositoryPath(_ repo: String, pipelineFile: String) -> String {
        let directory = URL(fileURLWithPath: pipelineFile).deletingLastPathComponent()
        return URL(fileURLWithPath: repo, relativeTo: directory).standardizedFileURL.path
    }

    /// Resolves every gitref param that has a value to the SHA of its commit. A ref that
    /// does not resolve is a param error with the param's own error code (e.g.
    /// INVALID_TARGET_REF), naming the ref and the repository. `repositories` overrides a
    /// param's `repo` (a git hook resolves in the repository it fired in).
    public static func resolve(_ pipeline: ValidatedPipeline, params: [String: Value], pipelineFile: String,
                               repositories: [String: String] = [:], git: any RefResolver)
        -> (refs: [String: RecordedRef], diagnostics: [Diagnostic]) {
        var refs: [String: RecordedRef] = [:]
        var diagnostics: [Diagnostic] = []
        for spec in pipeline.pipeline.params {
            guard case .gitref(let repo) = spec.kind, case .string(let ref)? = params[spec.name.value] else { continue }
            let path = repositories[spec.name.value] ?? repositoryPath(repo, pipelineFile: pipelineFile)
            do {
                refs[spec.name.value] = try git.resolve(ref: ref, in: path)
            } catch {
                diagnostics.append(Diagnostic(.invalidParam, "param '\(spec.name.value)': \(error.message)",
                                              hint: hint(error.kind), contractCode: spec.errorCode?.value,
                                              subject: "params.\(spec.name.value)"))
            }
        }
        return (refs, diagnostics)
    }

    static func hint(_ kind: GitError.Kind) -> String {
        switch kind {
        case .noRepository: "the param's `repo` is relative to the pipeline file; check it names a git repository"
        case .invalidName: "give a branch, tag, commit SHA, or HEAD (HEAD~2, main^ work too)"
        case .notFound: "give an existing branch, tag or commit; list them with `git branch -a` and `git tag`"
        case .ambiguous: "give more characters of the SHA"
        case .notACommit: "give a ref that names a commit"
        case .emptyRepository: "commit something first"
        }
    }

    /// The run's workspace directory: `.runner/workspaces/<run>/`.
    public static func workspace(_ state: StateDirectory, _ run: RunID) -> URL {
        state.root.appendingPathComponent("workspaces").appendingPathComponent(run.rawValue)
    }

    /// Makes the run's workspace when the pipeline declares one: a checkout of the commit its
    /// gitref param resolved to. Kept when it is already complete (a resumed run continues in
    /// the files its steps left); a half-written one is removed and written again. Returns
    /// the directory, or nil when the pipeline declares no workspace.
    static func prepareWorkspace(_ pipeline: ValidatedPipeline, run: RunRecord, state: StateDirectory,
                                 git: any RefResolver) throws -> URL? {
        guard let spec = pipeline.pipeline.workspace else { return nil }
        let name = spec.param.value
        guard let ref = run.refs[name] else {
            throw WorkspaceError(message: "run \(run.id) has no resolved commit for '\(name)' (was it given?)")
        }
        let directory = workspace(state, run.id)
        // Written to a sibling first and renamed whole: a crash mid-checkout leaves no
        // directory that looks complete.
        if FileManager.default.fileExists(atPath: directory.path) { return directory }
        let partial = directory.deletingLastPathComponent().appendingPathComponent(".\(run.id.rawValue).partial")
        try? FileManager.default.removeItem(at: partial)
        do {
            try git.checkout(ref, into: partial.path)
            try FileManager.default.moveItem(at: partial, to: directory)
        } catch let error as GitError {
            try? FileManager.default.removeItem(at: partial)
            throw WorkspaceError(message: "cannot check out the workspace: \(error.message)")
        }
        return directory
    }

    public struct WorkspaceError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }
}
