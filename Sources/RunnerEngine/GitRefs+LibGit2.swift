import RunnerCore
import RunnerGit

extension GitRefs {
    /// The adapter every front door gets unless it passes its own: the only place the engine
    /// names RunnerGit.
    public static let libgit2: any RefResolver = LibGit2Refs()
}
