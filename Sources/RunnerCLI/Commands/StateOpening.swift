#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FoundationEssentials
import RunnerCore
import RunnerEngine

/// The run state opened on another core while `apply` starts, reads and checks the pipeline
/// (making a new state database takes longer than all that in a small apply). Only
/// for `apply` without `--dry-run` (which records nothing), and only where the state
/// directory exists already: a mistyped `runner apply` in some directory must not leave a
/// `.runner/` there. What it opens is used only once the pipeline is found valid: a state
/// that cannot be opened is reported then, not before the pipeline's own errors.
final class StateOpening: @unchecked Sendable {
    let state: StateDirectory
    private var store: (any RunStateStore)?
    private var failure: (any Error)?
    private let done = DispatchSemaphore(value: 0)
    private var waited = false

    private init(state: StateDirectory) {
        self.state = state
    }

    static func start(for arguments: [String], state: StateDirectory) -> StateOpening? {
        guard arguments.first == "apply", !arguments.contains("--dry-run") else { return nil }
        guard FileSystem.isDirectory(state.root.path) else { return nil }
        let opening = StateOpening(state: state)
        DispatchQueue.global().async {
            do {
                opening.store = try Composition.openStore(state)
            } catch {
                opening.failure = error
            }
            opening.done.signal()
        }
        return opening
    }

    /// The opened store, or the error opening it gave.
    func wait() throws -> any RunStateStore {
        settle()
        if let failure { throw failure }
        guard let store else { throw OpeningError() }
        return store
    }

    private struct OpeningError: Error, CustomStringConvertible {
        var description: String { "the run state was not opened" }
    }

    /// Waits for the opening to be over, whatever its result. Called from one thread only
    /// (the command's).
    func settle() {
        guard !waited else { return }
        done.wait()
        waited = true
    }
}
