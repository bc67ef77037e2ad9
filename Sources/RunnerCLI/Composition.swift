import RunnerCore
import RunnerEngine
import RunnerGit
import RunnerStore

/// The composition root: which adapter backs each of the engine's ports in this binary. The
/// one place that names SQLite and libgit2; the engine, the server and the other commands see
/// only the core's protocols (`RunStateStore`, `RefResolver`), so another store (PostgreSQL)
/// is chosen here alone.
enum Composition {
    /// Refs resolved and workspaces checked out with libgit2 (loaded on first use).
    static let git: any RefResolver = LibGit2Refs()

    /// The run state of `state` (made there, with its directory, when there is none).
    static func openStore(_ state: StateDirectory) throws -> any RunStateStore {
        try state.ensure()
        return try SQLiteRunStore(path: state.database.path)
    }

    /// The engine over this binary's adapters; `store` when it is already open (`apply` opens
    /// it while it reads the pipeline).
    static func service(state: StateDirectory, environment: [String: String],
                        store: (any RunStateStore)? = nil) throws -> RunService {
        RunService(state: state, environment: environment, store: try store ?? openStore(state), git: git)
    }
}
