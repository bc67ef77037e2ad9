import Foundation
import RunnerTestSupport
import Testing
import RunnerCore
import RunnerStore
@testable import RunnerEngine

/// A stored run whose definition no longer loads (issue 16, item 4): it ends with a clear code
/// instead of staying unfinished (or taking its runner down), whatever was in flight.
@Suite struct UnloadableDefinitionTests {
    static let text = "version: 1\nname: two\nsteps:\n  - {name: a, run: 'sleep 30'}\n  - {name: b, needs: [a], run: 'true'}\n"

    /// A run a dead runner left with `a` in flight (and its process still running), whose
    /// definition then stopped loading.
    func interruptedRun(_ f: ExecutorFixture) throws -> (RunID, Process) {
        let id = try f.create()
        let then = Date()
        try f.store.apply([.run(.running, at: then)] + StoreChange.firstAttempt("a", at: then, pid: 1), to: id)
        try f.store.database.run("UPDATE definitions SET text = ? WHERE run_id = ?", [.text("version: 1\nname: [\n"), .text(id.rawValue)])
        let orphan = try f.orphan(marker: RunExecutor.marker(id, StepName("a"), 1))
        return (id, orphan)
    }

    @Test func itFailsWithItsOwnCodeAndWhatRanIsStopped() async throws {
        let f = try ExecutorFixture(Self.text)
        let (id, orphan) = try interruptedRun(f)
        let final = try await f.executor(id).execute()
        #expect(final.run.status == .failed)
        #expect(final.run.errorCode == "DEFINITION_UNLOADABLE")
        #expect(final.run.errorMessage?.contains("no longer loads") == true)
        #expect(final.steps.map(\.status) == [.failed, .skipped])
        #expect(final.attempts.allSatisfy { !$0.isInFlight }, "the attempt in flight is recorded as ended")
        #expect(f.wasKilled(orphan), "what was left of the attempt is killed")
        #expect(try f.store.load(id)?.run.owner == nil)
    }

    @Test func aCancelRequestedEndsItCancelled() async throws {
        let f = try ExecutorFixture(Self.text)
        let (id, orphan) = try interruptedRun(f)
        #expect(try f.store.requestCancel(id, at: Date()))
        let final = try await f.executor(id).execute()
        #expect(final.run.status == .cancelled)
        #expect(final.steps.map(\.status) == [.cancelled, .skipped])
        #expect(f.wasKilled(orphan))
    }
}
