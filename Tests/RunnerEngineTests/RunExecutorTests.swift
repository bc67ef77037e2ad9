import Foundation
import RunnerTestSupport
import Testing
import RunnerCore
import RunnerGit
import RunnerStore
import RunnerYAML
@testable import RunnerEngine

@Suite struct RunExecutorTests {
    @Test func aPipelineRunsWithItsEnvironmentOutputsAndLogs() async throws {
        let f = try ExecutorFixture("""
        version: 1
        name: env
        params:
          targetRef: {type: string, required: true}
          targets: {type: list, items: string, default: [a, b]}
        env: {SITE: site-dir}
        steps:
          - name: build
            run: |
              echo "building $PARAM_TARGET_REF for $SITE in $(basename "$PWD")" >> ledger
              echo "release=r-$RUNNER_ATTEMPT" >> "$RUNNER_OUTPUT"
              echo "50 halfway" >> "$RUNNER_PROGRESS"
              echo "built"
            outputs: [release]
          - name: promote
            needs: [build]
            for_each: params.targets
            run: echo "$ITEM got $STEP_BUILD_RELEASE ($RUNNER_STEP, $RUNNER_TRIGGER)" >> ledger
        """)
        let result = try await f.run(params: [("targetRef", .text("main; rm -rf /"))])
        #expect(result.run.status == .succeeded)
        let ledger = f.file("ledger")
        #expect(ledger.contains("building main; rm -rf / for site-dir in \(f.dir.lastPathComponent)"))
        #expect(ledger.contains("a got r-1 (promote[a], cli)"))
        #expect(ledger.contains("b got r-1 (promote[b], cli)"))
        #expect(result.step("build")?.outputs == ["release": "r-1"])
        #expect(result.step("promote[b]")?.status == .succeeded)
        #expect(result.attempts.count == 3)
        #expect(result.attempts.allSatisfy { $0.exitCode == 0 && $0.pid != nil && $0.finishedAt != nil })
        // A step's log holds what it printed; a step that printed nothing leaves no file.
        let buildLog = try #require(result.attempts.first { $0.step == "build" }?.logPath)
        #expect(try String(contentsOfFile: buildLog, encoding: .utf8) == "built\n")
        let quietLog = try #require(result.attempts.first { $0.step == "promote[a]" }?.logPath)
        #expect(!FileManager.default.fileExists(atPath: quietLog))
    }

    /// The final run read back comes without the definition's text when the caller gave the
    /// parsed pipeline (it has no use for it), and with it otherwise (a resume finds the
    /// secret params in it).
    @Test func theFinalRunHasItsDefinitionUnlessThePipelineWasGiven() async throws {
        let yaml = "version: 1\nname: p\nsteps:\n  - {name: a, run: \"true\"}\n"
        let fixture = try ExecutorFixture(yaml)
        let bare = try await fixture.run()
        #expect(bare.run.status == .succeeded && bare.run.definition == yaml)
        let pipeline = try #require(PipelineLoader.load(bytes: Array(yaml.utf8), file: fixture.pipelineFile.path).pipeline)
        let given = try await fixture.executor(try fixture.create(), pipeline: pipeline).execute()
        #expect(given.run.status == .succeeded && given.run.definition.isEmpty)
        #expect(given.steps.map(\.status) == [.succeeded] && given.attempts.count == 1)
        #expect(try fixture.store.load(given.run.id)?.run.definition == yaml)
    }

    @Test func failuresRetriesAndErrorClassesAreRecorded() async throws {
        let f = try ExecutorFixture("""
        version: 1
        name: retry
        errors:
          - {exit_codes: [75], code: RATE_LIMITED, retry: {attempts: 3, backoff: {initial: 100ms}}}
        steps:
          - name: flaky
            run: |
              n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count
              if [ $n -lt 3 ]; then echo "429 slow down" >&2; exit 75; fi
          - {name: broken, run: "echo 'disk on fire' >&2; exit 4", error: BROKEN}
        """)
        let result = try await f.run()
        #expect(result.run.status == .failed)
        #expect(result.run.errorCode == "BROKEN")
        #expect(result.run.errorMessage == "disk on fire")
        #expect(result.step("flaky")?.status == .succeeded)
        #expect(result.step("flaky")?.attempts == 3)
        let flaky = result.attempts.filter { $0.step.rawValue == "flaky" }
        #expect(flaky.map(\.exitCode) == [75, 75, 0])
        #expect(flaky.map(\.errorCode) == ["RATE_LIMITED", "RATE_LIMITED", nil])
    }

    /// The step is killed at its timeout, not when its `sleep 30` ends. Measured as the attempt
    /// was recorded, from its start to its end, both seen on the executor's loop: the test's
    /// own wall time also counted the waits for a thread of the cooperative pool (the store's
    /// loads run there), which tests that block those threads stretched past any bound.
    @Test func timeoutsKillTheStep() async throws {
        let f = try ExecutorFixture("""
        version: 1
        name: slow
        steps:
          - {name: slow, run: "sleep 30", timeout: 300ms, error: TOO_SLOW}
        """)
        let result = try await f.run()
        #expect(result.run.status == .failed)
        #expect(result.run.errorCode == "TOO_SLOW")
        let attempt = try #require(result.attempts.first)
        #expect(attempt.timedOut == true)
        let ran = try #require(attempt.finishedAt).timeIntervalSince(attempt.startedAt)
        #expect(ran < 10, "killed at its timeout, after \(ran) s")
    }

    /// A stored cancel (runs cancel, the API) stops the running steps and runs finally. It is
    /// one cancel however many polls see it: a slow finally step (0.5 s: ten polls of 50 ms)
    /// must still finish, not be stopped as by a second Ctrl-C.
    @Test(arguments: ["touch tidied", "sleep 0.5; touch tidied"])
    func cancelStopsRunningStepsAndRunsFinally(_ tidy: String) async throws {
        let f = try ExecutorFixture("""
        version: 1
        name: cancel
        steps:
          - {name: long, run: "touch started; sleep 30"}
        finally:
          steps:
            - {name: tidy, run: "\(tidy)"}
        """)
        let id = try f.create()
        let executor = f.executor(id)
        let task = Task { try await executor.execute() }
        let started = f.dir.appendingPathComponent("started").path
        #expect(await eventually { FileManager.default.fileExists(atPath: started) })
        #expect(try f.store.requestCancel(id, at: Date()))
        let result = try await task.value
        #expect(result.run.status == .cancelled)
        #expect(result.step("long")?.status == .cancelled)
        #expect(result.step("tidy")?.status == .succeeded)
        #expect(FileManager.default.fileExists(atPath: f.dir.appendingPathComponent("tidied").path))
    }

    @Test func progressIsRecordedWhileAStepRuns() async throws {
        // A handshake, not a race: the step waits until the runner has seen its progress.
        let f = try ExecutorFixture("""
        version: 1
        name: progress
        steps:
          - name: work
            run: |
              echo "40 working" >> "$RUNNER_PROGRESS"
              for i in $(seq 200); do [ -e seen ] && break; sleep 0.05; done
              [ -e seen ]
              echo "100 done" >> "$RUNNER_PROGRESS"
          - name: quick
            run: echo "100 finished at once" >> "$RUNNER_PROGRESS"
        """)
        let seen = ProgressLog()
        let id = try f.create()
        let flag = f.dir.appendingPathComponent("seen").path
        let result = try await f.executor(id, observer: { event in
            if case .progress(_, let percent, let message) = event, percent == 40, message == "working" {
                seen.add(percent)
                _ = FileManager.default.createFile(atPath: flag, contents: nil)
            }
        }).execute()
        #expect(result.run.status == .succeeded)
        #expect(seen.values == [40])
        #expect(result.step("work")?.progress == 100)
        // The last line written before the step exits is the one recorded, even between polls.
        #expect(result.step("work")?.progressMessage == "done")
        #expect(result.step("quick")?.progressMessage == "finished at once")
    }

    @Test func resumeRerunsWhatWasInFlightKillsItsOrphanAndNeverRerunsWhatSucceeded() async throws {
        let f = try ExecutorFixture(ExecutorFixture.ledgerChain("first", "second", "third"))
        let id = try f.create()
        // A runner that died: `first` succeeded, `second` was in flight (its process still runs).
        let now = Date()
        try f.store.apply([.run(.running, at: now)] + StoreChange.firstAttempt("first", at: now, succeeded: true)
                          + StoreChange.firstAttempt("second", at: now), to: id)
        try "first\n".write(to: f.dir.appendingPathComponent("ledger"), atomically: false, encoding: .utf8)
        let orphan = try f.orphan(marker: "\(id.rawValue)/second/1")
        let result = try await f.executor(id).execute()
        #expect(f.wasKilled(orphan), "the orphan of the interrupted attempt was killed before the step ran again")
        #expect(result.run.status == .succeeded)
        #expect(f.file("ledger") == "first\nsecond\nthird\n")
        Self.expectRunAgainAfterInterruption("second", in: result)
    }

    @Test func aLaunchTheRunnerDiedBeforeCommittingIsKilledRecordedAndRunAgain() async throws {
        let f = try ExecutorFixture(ExecutorFixture.ledgerChain("first", "second"))
        let id = try f.create()
        // A runner that died between journaling and starting `first` and committing it: the
        // store still has the run queued; the journal has the launch; its process still runs.
        let started = Date().addingTimeInterval(-5)
        try FileManager.default.createDirectory(at: f.state.logs(of: id), withIntermediateDirectories: true)
        var journal = LaunchJournal(path: LaunchJournal.path(f.state, id))
        try journal.append([LaunchJournal.Entry(name: "first", serial: 1, attempt: 1, at: started)])
        journal.close()
        let orphan = try f.orphan(marker: "\(id.rawValue)/first/1")
        let result = try await f.executor(id).execute()
        #expect(f.wasKilled(orphan), "the unrecorded launch's process was killed before the step ran again")
        #expect(result.run.status == .succeeded)
        #expect(f.file("ledger") == "first\nsecond\n")
        let lost = Self.expectRunAgainAfterInterruption("first", in: result)
        #expect(lost.map { abs($0.startedAt.timeIntervalSince(started)) < 0.01 } == true)
        // Every launch, the re-runs included, is in the journal; every journal entry has its record.
        let journaled = LaunchJournal.read(LaunchJournal.path(f.state, id)).map { "\($0.name)#\($0.serial)" }
        #expect(journaled == ["first#1", "first#2", "second#1"])
        #expect(Set(result.attempts.map { "\($0.step)#\($0.serial)" }) == Set(journaled))
    }

    /// `step`'s attempt a dead runner left is recorded as interrupted and not counted, and the
    /// step ran again under the next serial (and log); returns the interrupted attempt.
    @discardableResult
    static func expectRunAgainAfterInterruption(_ step: String, in result: StoredRun) -> AttemptRecord? {
        let attempts = result.attempts.filter { $0.step.rawValue == step }
        #expect(attempts.map(\.serial) == [1, 2], "the interrupted attempt is recorded, the next one has a new serial")
        #expect(attempts.first?.errorCode == "RUNNER_INTERRUPTED")
        #expect(attempts.first?.counted == false)
        #expect(result.step(step)?.attempts == 1)
        return attempts.first
    }

    @Test func launchJournalLinesRoundTripOddNamesAndIgnoreATornLastLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("launches").path
        let at = Date(timeIntervalSince1970: 1_795_000_000.123)
        let names: [StepName] = ["build", "promote[a/b]", "x y%z", "line\nbreak", "..", "日本"]
        var journal = LaunchJournal(path: path)
        try journal.append(names.enumerated().map { LaunchJournal.Entry(name: $1, serial: $0 + 1, attempt: 1, at: at) })
        journal.close()
        let read = LaunchJournal.read(path)
        #expect(read.map(\.name) == names)
        #expect(read.map(\.serial) == Array(1...names.count))
        #expect(read.allSatisfy { abs($0.at.timeIntervalSince(at)) < 0.001 })
        // A crash in the middle of a write leaves a partial line: it is not an entry.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("7 1 17950".utf8))
        try handle.close()
        #expect(LaunchJournal.read(path).count == names.count)
    }

    @Test func aLiveOwnersRunCannotBeTaken() async throws {
        let f = try ExecutorFixture("version: 1\nname: busy\nsteps:\n  - {name: a, run: 'true'}")
        let id = try f.create()
        _ = try f.store.claim(id, owner: ProcessIdentity.current + "-other", until: Date().addingTimeInterval(60), now: Date(),
                              isOwnerAlive: { _ in true })
        await #expect(throws: RunExecutor.ExecutorError.self) { _ = try await f.executor(id).execute() }
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func add(_ v: Int) { lock.lock(); list.append(v); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return list }
}
