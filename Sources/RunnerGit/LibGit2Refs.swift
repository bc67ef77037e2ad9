import RunnerCore

/// The `RefResolver` port on libgit2: each call opens the repository it names (a handle is not
/// shared between threads), so one value serves every thread.
public struct LibGit2Refs: RefResolver {
    public init() {}

    public func resolve(ref: String, in repository: String) throws(GitError) -> RecordedRef {
        do {
            let opened = try GitRepository(path: repository)
            return RecordedRef(sha: try opened.resolveCommit(ref).sha, repository: opened.path)
        } catch let error as GitError {
            throw error
        } catch {
            // GitRepository throws nothing else; kept total rather than trapping.
            throw GitError(kind: .noRepository, message: "\(error)")
        }
    }

    public func checkout(_ commit: RecordedRef, into directory: String) throws {
        try GitRepository(path: commit.repository).checkout(commit: commit.sha, into: directory)
    }
}
