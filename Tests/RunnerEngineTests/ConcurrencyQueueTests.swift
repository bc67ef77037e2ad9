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

    func admit(_ f: ExecutorFixture, _ service: RunService, n: Int) async throws -> RunID {
        let text = try String(contentsOf: f.pipelineFile, encoding: .utf8)
        let pipeline = try #require(PipelineLoader.load(bytes: Array(text.utf8), file: f.pipelineFile.path).pipeline)
        guard case .created(let id) = try await service.admit(pipeline: pipeline, definition: text, file: f.pipelineFile.path,
                                                              params: ["n": .int(n)], trigger: .cli, parallelism: 1) else {
            throw TestFailure("run \(n) was not created")
        }
        return id
    }

    func service(_ f: ExecutorFixture) throws -> RunService {
        try RunService(state: f.state, environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
    }

    @Test func queuedRunsAreRecordedAtOnceAndRunOneAfterTheOther() async throws {
        let f = try ExecutorFixture(Self.pipeline("queue", sleep: "0.3"))
        let first = try await admit(f, try service(f), n: 1)
        let second = try await admit(f, try service(f), n: 2)
        #expect(try f.store.load(second)?.run.status == .queued, "recorded at once, with an id, while the first has not even started")
        // The second's executor starts first: it must still wait for the first.
        let waiting = Task { try await service(f).execute(second) }
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(f.file("ledger") == "", "the later run waits for the earlier one")
        let a = try await service(f).execute(first)
        let b = try await waiting.value
        #expect(a.run.status == .succeeded && b.run.status == .succeeded)
        #expect(f.file("ledger") == "start-1\nend-1\nstart-2\nend-2\n")
    }

    @Test func cancelRunningCancelsTheEarlierRunThenStarts() async throws {
        // Only the first run is long.
        let f = try ExecutorFixture(Self.pipeline("cancel_running", sleep: "$(if [ \"$PARAM_N\" = 1 ]; then echo 30; else echo 0; fi)"))
        let first = try await admit(f, try service(f), n: 1)
        let running = Task { try await service(f).execute(first) }
        #expect(await eventually { f.file("ledger") == "start-1\n" })
        let second = try await admit(f, try service(f), n: 2)
        let b = try await service(f).execute(second)
        let a = try await running.value
        #expect(a.run.status == .cancelled)
        #expect(!f.file("ledger").contains("end-1"), "the first run was stopped, not waited for")
        #expect(b.run.status == .succeeded)
        #expect(f.file("ledger").hasSuffix("start-2\nend-2\n"))
    }

    @Test func aRunCancelledWhileItWaitsNeverStarts() async throws {
        let f = try ExecutorFixture(Self.pipeline("queue", sleep: "1"))
        let first = try await admit(f, try service(f), n: 1)
        let running = Task { try await service(f).execute(first) }
        #expect(await eventually { f.file("ledger") == "start-1\n" })
        let second = try await admit(f, try service(f), n: 2)
        let waiting = Task { try await service(f).execute(second) }
        try await Task.sleep(nanoseconds: 200_000_000)
        _ = try f.store.requestCancel(second, at: Date())
        let b = try await waiting.value
        #expect(b.run.status == .cancelled)
        #expect(b.attempts.isEmpty, "it never started a step")
        #expect(try await running.value.run.status == .succeeded)
        #expect(!f.file("ledger").contains("start-2"))
    }
}
