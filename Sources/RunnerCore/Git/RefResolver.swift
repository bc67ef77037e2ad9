/// The engine's whole view of git: a ref as users write it becomes a commit when a run is
/// created, and that commit becomes the run's workspace when it starts. RunnerGit's
/// `LibGit2Refs` is the implementation; tests use a dictionary of refs.
///
/// Both are called off the executor's loop (they block on the file system) and may be called
/// from several threads at once: an implementation keeps no shared mutable state.
public protocol RefResolver: Sendable {
    /// The commit `ref` names in the repository at `repository` (a work tree, a directory
    /// inside one, or a bare repository), recorded with the repository as the implementation
    /// names it in messages. The ref text is untrusted: it never reaches a shell or an argv.
    func resolve(ref: String, in repository: String) throws(GitError) -> RecordedRef

    /// Writes the tree of `commit` into `directory` (created if missing; it should be empty),
    /// leaving the repository's own index, HEAD and work tree alone. Throws `GitError` when
    /// the commit cannot be read, or the file system's error when the directory cannot be
    /// written.
    func checkout(_ commit: RecordedRef, into directory: String) throws
}
