import Foundation
import RunnerCore
import RunnerTestSupport
import Testing
@testable import RunnerEngine

/// The executor's glue, without processes or sleeps (`GlueFixture`): what it does when its
/// lease is taken, when the store stops recording, while its run waits for its group, when it
/// is cancelled, and whose time its retries wait on.
@Suite struct ExecutorGlueTests {
    static let chain = """
        version: 1
        name: chain
        steps:
          - {name: a, run: "true"}
          - {name: b, run: "true", needs: [a]}
          - {name: c, run: "true", needs: [b]}
        """

    /// A runner paused past its lease (the clock jumps) finds on waking that another runner
    /// claimed the run: it launches nothing more, kills what it started, ends `leaseLost`,
    /// and records nothing more of the run.
    @Test func aRunTakenOverLaunchesNothingMoreAndStopsItsSteps() async throws {
        let f = try GlueFixture()
        let id = try f.create("""
            version: 1
            name: fenced
            steps:
              - {name: slow, run: "true"}
              - {name: quick, run: "true"}
              - {name: next, run: "true", needs: [quick]}
            """)
        let execution = f.start(id)
        #expect(await f.launcher.waitForLaunches(2))
        #expect(await f.store.waitUntilStarted("quick"))
        let later = f.clock.now().addingTimeInterval(GlueFixture.leaseDuration + 1)
        let taken = try f.store.claim(id, owner: "elsewhere:1:1", until: later.addingTimeInterval(60), now: later,
                                      isOwnerAlive: { _ in true })
        #expect(taken != nil, "the lease expired: another runner may claim the run")
        await f.advance(by: GlueFixture.leaseDuration + 1)
        f.launcher.end("quick")
        let outcome = await execution.outcome()
        guard case .failure(RunExecutor.ExecutorError.leaseLost) = outcome else {
            Issue.record("expected leaseLost, got \(outcome)")
            return
        }
        let record = f.launcher.record.value
        #expect(Set(record.launched) == ["slow", "quick"], "next was never launched")
        #expect(record.calls.contains(.kill(step: "slow")), "the step still running was killed")
        let stored = try #require(try f.store.load(id))
        #expect(stored.run.owner == "elsewhere:1:1")
        #expect(stored.steps.first { $0.name == "quick" }?.status == .running, "nothing recorded after the takeover")
    }

    /// The store fails transiently for longer than `storePatience`: nothing is launched after
    /// the failure was seen, the run stops with `storeUnavailable`, and a resume on a healthy
    /// store continues it exactly: the step whose success was stored is not launched again,
    /// the one whose end was lost runs again (at least once), the rest once.
    @Test func aStoreThatStopsRecordingStopsTheRunAndAResumeContinuesIt() async throws {
        let f = try GlueFixture()
        let id = try f.create(Self.chain)
        let execution = f.start(id)
        #expect(await f.launcher.waitForLaunches(1))
        f.launcher.end("a")
        #expect(await f.launcher.waitForLaunches(2))
        #expect(await f.store.waitUntilStarted("b"))
        f.store.fail(with: TransientStoreFailure())
        // A lease renewal is due: the writer finds the store failing and says so.
        await f.advance(by: GlueFixture.leaseDuration / 3 + 1)
        #expect(await f.waitForEvent { if case .storeWaiting(.some, _) = $0 { true } else { false } })
        f.launcher.end("b")
        await f.advance(by: 61)
        let outcome = await execution.outcome()
        guard case .failure(RunExecutor.ExecutorError.storeUnavailable) = outcome else {
            Issue.record("expected storeUnavailable, got \(outcome)")
            return
        }
        #expect(f.launcher.record.value.launched == ["a", "b"], "c, decided while the store failed, never started")

        f.store.fail(with: nil)
        let resumer = FakeLauncher(clock: f.clock)
        let resumed = f.start(id, launcher: resumer)
        #expect(await resumer.waitForLaunches(1))
        resumer.end("b")
        #expect(await resumer.waitForLaunches(2))
        resumer.end("c")
        let final = try await resumed.run()
        #expect(final.run.status == .succeeded)
        #expect(resumer.record.value.launched == ["b", "c"], "a, stored as succeeded, is not launched again")
        #expect(resumer.record.value.calls.contains(.killAbandoned(marker: "\(id.rawValue)/b/1")))
        #expect(final.attempts(of: "a").count == 1 && final.attempts(of: "c").count == 1)
        #expect(final.attempts(of: "b").map(\.counted) == [false, true], "b's lost end: interrupted, then run again")
    }

    /// `queue`: a run waits for the earlier run of its group, launching nothing, and starts
    /// when that one has finished (it looks again on its clock's time, not the wall's).
    @Test func aQueuedRunWaitsForItsGroupsEarlierRun() async throws {
        let f = try GlueFixture()
        let yaml = """
            version: 1
            name: queued
            concurrency: {group: g, on_conflict: queue}
            steps:
              - {name: work, run: "true"}
            """
        let first = try f.create(yaml)
        await f.advance(by: 1)
        let second = try f.create(yaml)
        let waiting = f.start(second)
        #expect(await f.waitForEvent { if case .waitingForGroup(let active, "g") = $0 { active.id == first } else { false } })
        #expect(f.launcher.record.value.processes.isEmpty)
        let running = f.start(first)
        #expect(await f.launcher.waitForLaunches(1))
        f.launcher.end("work")
        #expect(try await running.run().run.status == .succeeded)
        #expect(f.launcher.record.value.processes.count == 1, "the queued run waits for its next look")
        await f.advance(by: 0.1)
        #expect(await f.launcher.waitForLaunches(2))
        f.launcher.end("work")
        #expect(try await waiting.run().run.status == .succeeded)
        #expect(f.launcher.record.value.processes.map(\.run) == [first.rawValue, second.rawValue])
    }

    enum CancelRequest: String, CaseIterable { case direct, stored }

    /// A cancel (Ctrl-C, or one stored by `runs cancel` and seen by a poll) terminates the
    /// running step; the finally steps still run, and the run ends cancelled.
    @Test(arguments: CancelRequest.allCases)
    func cancelTerminatesRunningStepsAndRunsFinally(_ request: CancelRequest) async throws {
        let f = try GlueFixture()
        let id = try f.create("""
            version: 1
            name: cancel
            steps:
              - {name: long, run: "true"}
              - {name: after, run: "true", needs: [long]}
            finally:
              steps:
                - {name: tidy, run: "true"}
            """)
        let execution = f.start(id)
        #expect(await f.launcher.waitForLaunches(1))
        switch request {
        case .direct:
            execution.executor.cancel()
        case .stored:
            #expect(try f.store.requestCancel(id, at: f.clock.now()))
            await f.advance(by: 0.25)
        }
        #expect(await f.launcher.waitForLaunches(2))
        #expect(f.launcher.record.value.calls.contains(.terminate(step: "long")))
        f.launcher.end("tidy")
        let final = try await execution.run()
        #expect(final.run.status == .cancelled)
        #expect(final.steps.map(\.status) == [.cancelled, .cancelled, .succeeded])
        #expect(f.launcher.record.value.launched == ["long", "tidy"])
    }

    /// A step's timeout runs on the executor's clock from its process's start: the step is
    /// terminated when the clock reaches it, not before, and its attempt ends timed out.
    @Test func aTimeoutTerminatesTheStepOnTheClock() async throws {
        let f = try GlueFixture()
        let id = try f.create("""
            version: 1
            name: slow
            steps:
              - {name: slow, run: "true", timeout: 5s, error: TOO_SLOW}
            """)
        let execution = f.start(id)
        #expect(await f.launcher.waitForLaunches(1))
        await f.advance(by: 4.5)
        #expect(await f.launcher.loop.whenIdle())
        #expect(!f.launcher.record.value.calls.contains(.terminate(step: "slow")), "not before its timeout")
        await f.advance(by: 0.5)
        let final = try await execution.run()
        #expect(f.launcher.record.value.calls.contains(.terminate(step: "slow")))
        #expect(final.run.status == .failed && final.run.errorCode == "TOO_SLOW")
        let attempt = try #require(final.attempts(of: "slow").first)
        #expect(attempt.timedOut && attempt.finishedAt?.timeIntervalSince(attempt.startedAt) == 5)
    }

    /// A retry's backoff is measured on the executor's clock: the second attempt starts when
    /// the clock has moved by the delay, not before, and no wall time passes for it.
    @Test func retryBackoffWaitsOnTheClock() async throws {
        let f = try GlueFixture()
        let id = try f.create("""
            version: 1
            name: retry
            errors:
              - {exit_codes: [75], code: RATE_LIMITED, retry: {attempts: 3, backoff: {initial: 10s}}}
            steps:
              - {name: flaky, run: "true"}
            """)
        let execution = f.start(id)
        #expect(await f.launcher.waitForLaunches(1))
        f.launcher.end("flaky", .exited(code: 75))
        #expect(await f.waitForEvent { if case .attemptEnded("flaky", 1, _, _, _, _) = $0 { true } else { false } })
        await f.advance(by: 9.5)
        #expect(await f.launcher.loop.whenIdle())
        #expect(f.launcher.record.value.processes.count == 1, "not before its delay")
        await f.advance(by: 0.5)
        #expect(await f.launcher.waitForLaunches(2))
        f.launcher.end("flaky")
        let final = try await execution.run()
        #expect(final.run.status == .succeeded)
        let attempts = final.attempts(of: "flaky")
        #expect(attempts.map(\.errorCode) == ["RATE_LIMITED", nil])
        #expect(attempts.map { $0.startedAt.timeIntervalSince(attempts[0].startedAt) } == [0, 10])
    }
}
