import Foundation
import RunnerCore
import RunnerEngine
import RunnerStore
import RunnerTestSupport
import RunnerYAML
import Testing

/// `queue` and `cancel_running`: a run is recorded at once and waits in its executor for the
/// group's earlier runs, with real processes and two executors at once.
@Suite struct ConcurrencyQueueTests {
    static func pipeline(_ onConflict: String, sleep: String) -> String {
        """
        version: 1
        name: q
        params:
          n: {type: int, required: true}
        concurrency: {group: g, on_conflict: \(onConflict)}
        steps:
          - name: work
            run: |
              echo "start-$PARAM_N" >> ledger
              sleep \(sleep)
              echo "end-$PARAM_N" >> ledger
        """
    }

    /// Run `n` of the group, launched by a service of its own (as each front door has).
    func launch(_ f: ExecutorFixture, n: Int) throws -> RunID {
        try f.launch(try f.service(), params: ["n": .int(n)])
    }

    /// Run 1 executing (its step has started), then run 2 launched: the moment the group's rule
    /// decides about.
    func secondWhileFirstRuns(_ f: ExecutorFixture) async throws -> (first: Task<StoredRun, any Error>, second: RunID) {
        let first = try launch(f, n: 1)
        let running = Task { try await f.service().execute(first) }
        #expect(await eventually { f.file("ledger") == "start-1\n" })
        return (running, try launch(f, n: 2))
    }

    @Test func queuedRunsAreRecordedAtOnceAndRunOneAfterTheOther() async throws {
        let f = try ExecutorFixture(Self.pipeline("queue", sleep: "0.3"))
        let first = try launch(f, n: 1)
        let second = try launch(f, n: 2)
        #expect(try f.store.load(second)?.run.status == .queued, "recorded at once, with an id, while the first has not even started")
        // The second's executor starts first: it must still wait for the first.
        let waiting = Task { try await f.service().execute(second) }
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(f.file("ledger") == "", "the later run waits for the earlier one")
        let a = try await f.service().execute(first)
        let b = try await waiting.value
        #expect(a.run.status == .succeeded && b.run.status == .succeeded)
        #expect(f.file("ledger") == "start-1\nend-1\nstart-2\nend-2\n")
    }

    @Test func cancelRunningCancelsTheEarlierRunThenStarts() async throws {
        // Only the first run is long.
        let f = try ExecutorFixture(Self.pipeline("cancel_running", sleep: "$(if [ \"$PARAM_N\" = 1 ]; then echo 30; else echo 0; fi)"))
        let (running, second) = try await secondWhileFirstRuns(f)
        let b = try await f.service().execute(second)
        let a = try await running.value
        #expect(a.run.status == .cancelled)
        #expect(!f.file("ledger").contains("end-1"), "the first run was stopped, not waited for")
        #expect(b.run.status == .succeeded)
        #expect(f.file("ledger").hasSuffix("start-2\nend-2\n"))
    }

    @Test func aRunCancelledWhileItWaitsNeverStarts() async throws {
        let f = try ExecutorFixture(Self.pipeline("queue", sleep: "1"))
        let (running, second) = try await secondWhileFirstRuns(f)
        let waiting = Task { try await f.service().execute(second) }
        try await Task.sleep(nanoseconds: 200_000_000)
        _ = try f.store.requestCancel(second, at: Date())
        let b = try await waiting.value
        #expect(b.run.status == .cancelled)
        #expect(b.attempts.isEmpty, "it never started a step")
        #expect(try await running.value.run.status == .succeeded)
        #expect(!f.file("ledger").contains("start-2"))
    }
}

/// A service executes the runs it created from the records it made (not read back), unless
/// another runner took the run meanwhile.
@Suite struct CreatedRunTests {
    static let text = ExecutorFixture.ledgerChain("a", "b")

    @Test func aRunExecutedByTheServiceThatCreatedItRunsEachStepOnce() async throws {
        let f = try ExecutorFixture(Self.text)
        let service = try f.service()
        let id = try f.launch(service)
        let final = try await service.execute(id)
        #expect(final.run.status == .succeeded)
        #expect(final.steps.map(\.status) == [.succeeded, .succeeded])
        #expect(f.file("ledger") == "a\nb\n")
        #expect(try f.store.load(id)?.run.owner == nil, "the lease was released")
    }

    /// Another runner started the run after it was created (its creator took too long) and died
    /// with `a` done: the creator must resume it from the store, not start it afresh.
    @Test func aCreatedRunStartedMeanwhileByAnotherRunnerIsResumedNotRestarted() async throws {
        let f = try ExecutorFixture(Self.text)
        let service = try f.service()
        let id = try f.launch(service)
        let then = Date()
        #expect(try f.store.claim(id, owner: "999999@elsewhere", until: then.addingTimeInterval(-1), now: then, isOwnerAlive: { _ in false }) != nil)
        try f.store.apply([.run(.running, at: then)] + StoreChange.firstAttempt("a", at: then, pid: 1, succeeded: true),
                          to: id)
        let final = try await service.execute(id)
        #expect(final.run.status == .succeeded)
        #expect(f.file("ledger") == "b\n", "a, recorded succeeded, never runs again")
        #expect(final.attempts.filter { $0.step == StepName("a") }.count == 1)
    }
}
