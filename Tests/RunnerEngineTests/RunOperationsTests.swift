import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import Testing

/// `cancel` and `retry`: their outcomes and audit entries, on an in-memory store.
@Suite struct RunOperationsTests {
    let cli = AuditContext(actor: "cli:alice")
    static let steps = """
      - {name: build, run: "true"}
      - {name: test, needs: [build], run: "true"}
      - {name: ship, needs: [test], run: "true"}
    """

    /// A finished run of `guarded` (build, test, ship): build succeeded with an output, test
    /// failed, ship was skipped.
    func failedRun(_ h: LaunchHarness) throws -> RunRecord {
        let loaded = try h.pipeline(steps: Self.steps)
        var request = LaunchRequest(pipeline: loaded, params: LaunchRequest.given(["ref": .string("main")]),
                                    trigger: .api, parallelism: 1)
        request.audit = nil
        guard case .accepted(let run) = try h.service.launch(request, at: LaunchHarness.t0) else {
            throw InMemoryStoreError("not accepted")
        }
        let t = LaunchHarness.t0 + 5
        func step(_ name: StepName, _ status: StepStatus, _ code: String? = nil) -> StoreChange {
            .stepStatus(name, status, attempts: 1, serial: 1, retryAt: nil, errorCode: code, message: nil, at: t)
        }
        try h.store.apply([
            .runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: t),
            step("build", .running), step("build", .succeeded), .outputs("build", ["version": "1.2"]),
            step("test", .running), step("test", .failed, "E"), step("ship", .skipped),
            .runStatus(.failed, errorCode: "E", message: nil, wakeAt: nil, at: t),
        ], to: run.id)
        return run
    }

    @Test func cancellingAFinishedOrUnknownRunChangesNothing() throws {
        let h = try LaunchHarness()
        let run = try failedRun(h)
        guard case .alreadyFinished(let finished) = try h.service.cancel(run.id, audit: cli) else {
            Issue.record("not reported finished")
            return
        }
        #expect(finished.status == .failed)
        guard case .notFound = try h.service.cancel(RunID("20260101-000000-000000"), audit: cli) else {
            Issue.record("not reported missing")
            return
        }
        #expect(try h.store.audit(limit: 10).isEmpty && !h.store.isCancelRequested(run.id))
    }

    @Test func aCancelIsRecordedAuditedAndSaysWhetherAnyoneExecutesTheRun() throws {
        let h = try LaunchHarness()
        let launched = try h.service.launch(try h.request(["ref": .string("main")]), at: LaunchHarness.t0)
        guard case .accepted(let run) = launched else {
            Issue.record("not accepted")
            return
        }
        let cancelled = try h.service.cancel(run.id, audit: cli, at: LaunchHarness.t0 + 1)
        guard case .requested(_, let hasExecutor) = cancelled else {
            Issue.record("not requested")
            return
        }
        #expect(hasExecutor, "a run created a second ago is about to be claimed by its creator")
        #expect(try h.store.isCancelRequested(run.id))
        let entry = try #require(try h.newestAudit())
        #expect(entry.action == "cancel" && entry.actor == "cli:alice")
        #expect(entry.runID == run.id && entry.pipeline == "guarded")
        guard case .requested(_, let later) = try h.service.cancel(run.id, audit: cli, at: LaunchHarness.t0 + 60) else {
            Issue.record("not requested")
            return
        }
        #expect(!later, "never claimed in a minute: its creator is gone")
    }

    @Test func retryFromAStepReusesEarlierSuccessesAndIsAudited() throws {
        let h = try LaunchHarness()
        let original = try failedRun(h)
        let outcome = try h.service.retry(original.id, from: "test", trigger: .cli, audit: cli,
                                          at: LaunchHarness.t0 + 10)
        guard case .accepted(let run) = outcome else {
            Issue.record("not accepted: \(outcome)")
            return
        }
        let stored = try #require(try h.store.load(run.id))
        let originalRefs = try h.store.load(original.id)?.run.refs
        #expect(stored.run.trigger == .cli && stored.run.refs == originalRefs && !stored.run.refs.isEmpty)
        #expect(stored.steps.map(\.status) == [.succeeded, .queued, .queued])
        #expect(stored.steps[0].outputs == ["version": "1.2"])
        #expect(stored.steps[0].errorMessage == "reused from run \(original.id)")
        let entry = try #require(try h.newestAudit())
        #expect(entry.action == "retry" && entry.runID == run.id && entry.actor == "cli:alice" && entry.params.isEmpty)
    }

    @Test func retryFromAStepTheRunDoesNotHaveIsInvalid() throws {
        let h = try LaunchHarness()
        let original = try failedRun(h)
        let misspelt = try h.service.retry(original.id, from: "tset", trigger: .api, audit: cli)
        guard case .invalid(let problems) = misspelt else {
            Issue.record("not invalid")
            return
        }
        #expect(problems.first?.message.hasPrefix("run \(original.id) has no step 'tset'") == true, "\(problems)")
        let missing = try h.service.retry(RunID("20260101-000000-000000"), from: "test", trigger: .api, audit: cli)
        guard case .invalid = missing else {
            Issue.record("a missing run is not invalid")
            return
        }
        #expect(try h.store.audit(limit: 10).isEmpty && h.runs().count == 1)
    }

    @Test func retryFollowsTheConcurrencyRule() throws {
        let h = try LaunchHarness()
        let original = try failedRun(h)
        guard case .accepted(let active) = try h.service.launch(try h.request(["ref": .string("main")])) else {
            Issue.record("not accepted")
            return
        }
        let retried = try h.service.retry(original.id, from: "build", trigger: .api, audit: cli)
        guard case .rejected(let busy, let code) = retried else {
            Issue.record("not rejected")
            return
        }
        #expect(busy.id == active.id && code == "GUARDED_BUSY")
    }
}
