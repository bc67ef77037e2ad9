import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import Testing

/// `RunService.launch`, the one launch path: each outcome, what it records and what it audits,
/// on an in-memory store and a fake git (no process, no database).
@Suite struct LaunchTests {
    let valid: [String: Value] = ["target": .string("production"), "password": .string("hunter2"),
                                  "ref": .string("main")]

    @Test func anAcceptedLaunchIsRecordedWithItsCommitsAndAudited() throws {
        let h = try LaunchHarness()
        guard case .accepted(let run) = try h.service.launch(try h.request(valid), at: LaunchHarness.t0) else {
            Issue.record("not accepted")
            return
        }
        #expect(run.status == .queued && run.trigger == .api && run.createdAt == LaunchHarness.t0)
        #expect(run.definition.isEmpty, "the caller has the pipeline")
        let stored = try #require(try h.store.load(run.id))
        let site = h.dir.appendingPathComponent("site").path
        #expect(stored.run.refs["ref"] == RecordedRef(sha: LaunchHarness.sha, repository: site))
        #expect(stored.run.params["target"] == .string("production"))
        #expect(stored.run.params["password"] != .string("hunter2"), "the secret is sealed at rest")
        #expect(stored.run.concurrencyGroup == "guarded" && !stored.run.definition.isEmpty)
        let entry = try #require(try h.newestAudit())
        #expect(entry.action == "launch" && entry.runID == run.id && entry.actor == "ci" && entry.traceID == "trace-7")
        #expect(entry.at == LaunchHarness.t0 && entry.code == nil)
        #expect(entry.params == ["target": .string("production"), "password": .string("***"), "ref": .string("main")])
    }

    @Test func invalidParamsAnswerWithTheParamsCodeAndRecordNothing() throws {
        let h = try LaunchHarness()
        var given = valid
        given["target"] = .string("nope")
        guard case .invalid(let problems) = try h.service.launch(try h.request(given), at: LaunchHarness.t0) else {
            Issue.record("not invalid")
            return
        }
        #expect(problems.first?.displayCode == "INVALID_TARGET")
        #expect(try h.runs().isEmpty)
        let entry = try #require(try h.newestAudit())
        #expect(entry.action == "launch_invalid" && entry.code == "INVALID_TARGET" && entry.runID == nil)
        #expect(entry.params == ["target": .string("nope"), "password": .string("***"), "ref": .string("main")])
    }

    @Test func aRefThatDoesNotResolveIsInvalidWithItsParamsCode() throws {
        let h = try LaunchHarness()
        var given = valid
        given["ref"] = .string("no-such-branch")
        guard case .invalid(let problems) = try h.service.launch(try h.request(given)) else {
            Issue.record("not invalid")
            return
        }
        #expect(problems.map(\.displayCode) == ["INVALID_REF"])
        #expect(problems[0].message.contains("no-such-branch"))
        #expect(try h.runs().isEmpty && h.newestAudit()?.code == "INVALID_REF")
    }

    @Test func rejectNamesTheActiveRunAndThePipelinesCode() throws {
        let h = try LaunchHarness()
        guard case .accepted(let first) = try h.service.launch(try h.request(valid)) else {
            Issue.record("the first launch was not accepted")
            return
        }
        guard case .rejected(let active, let code) = try h.service.launch(try h.request(valid)) else {
            Issue.record("not rejected")
            return
        }
        #expect(active.id == first.id && code == "GUARDED_BUSY")
        #expect(try h.runs().count == 1)
        let entry = try #require(try h.newestAudit())
        #expect(entry.action == "launch_rejected" && entry.code == "GUARDED_BUSY" && entry.runID == first.id)
        #expect(entry.params["password"] == .string("***"))
        #expect(LaunchOutcome.conflictMessage(pipeline: "guarded", active: active)
                == "pipeline 'guarded' already has an active run \(first.id) (queued) in concurrency group 'guarded'")
    }

    @Test func skipRecordsTheRunAsSkipped() throws {
        let h = try LaunchHarness()
        _ = try h.service.launch(try h.request(valid, onConflict: "skip"))
        guard case .skipped(let run, let active) = try h.service.launch(try h.request(valid, onConflict: "skip")) else {
            Issue.record("not skipped")
            return
        }
        let stored = try #require(try h.store.load(run.id))
        #expect(stored.run.status == .skipped && stored.steps.allSatisfy { $0.status == .skipped })
        #expect(run.errorMessage == "skipped: run \(active.id) of group guarded is queued")
        #expect(try h.newestAudit()?.action == "launch" && h.newestAudit()?.runID == run.id)
    }

    @Test func aRequestTheFrontDoorCouldNotReadIsInvalidAndAudited() throws {
        let h = try LaunchHarness()
        var request = try h.request([:])
        request.unreadable = Diagnostic(.invalidBody, "the body is not a JSON object")
        guard case .invalid(let problems) = try h.service.launch(request) else {
            Issue.record("not invalid")
            return
        }
        #expect(problems.map(\.code) == [.invalidBody])
        #expect(try h.newestAudit()?.code == DiagnosticCode.invalidBody.rawValue && h.newestAudit()?.params == [:])
    }

    @Test func aLaunchWithoutAnAuditContextIsNotAudited() throws {
        let h = try LaunchHarness()
        guard case .accepted = try h.service.launch(try h.request(valid, audit: nil)) else {
            Issue.record("not accepted")
            return
        }
        #expect(try h.store.audit(limit: 10).isEmpty)
    }

    @Test func aStoreThatFailsIsAFailureNeverAnOutcome() throws {
        let h = try LaunchHarness()
        h.store.failWrites(with: BusyStore())
        #expect {
            _ = try h.service.launch(try h.request(valid))
        } throws: { error in
            (error as? OperationFailure)?.stage == .recordingRun && error.isTransientStoreFailure
        }
        var keyed = try h.request(valid)
        keyed.idempotency = LaunchHarness.key("k", payload: "p")
        #expect {
            _ = try h.service.launch(keyed)
        } throws: { error in
            (error as? OperationFailure)?.stage == .recordingKey
        }
    }
}
