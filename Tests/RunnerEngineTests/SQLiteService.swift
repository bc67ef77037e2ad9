import RunnerCore
import RunnerEngine
import RunnerGit
import RunnerStore

extension RunService {
    /// The engine over SQLite and libgit2 in `state`, as the CLI's composition root makes it.
    static func onSQLite(state: StateDirectory, environment: [String: String]) throws -> RunService {
        try state.ensure()
        return RunService(state: state, environment: environment, store: try SQLiteRunStore(path: state.database.path),
                          git: LibGit2Refs())
    }
}
