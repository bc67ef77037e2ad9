import RunnerCore
import RunnerEngine
import RunnerStore
import RunnerTestSupport

extension RunService {
    /// The engine over SQLite in `state`, as the CLI's composition root makes it; no pipeline
    /// of these tests has a gitref param, so git is a fake with no repository.
    static func onSQLite(state: StateDirectory, environment: [String: String]) throws -> RunService {
        try state.ensure()
        return RunService(state: state, environment: environment, store: try SQLiteRunStore(path: state.database.path),
                          git: FakeRefResolver(refs: [:]))
    }
}
