import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import Testing

/// Who launched a run: recorded by the one launch path from each front door's actor, kept by
/// a retry unless it has its own, and given to steps as `RUNNER_ACTOR`.
@Suite struct ActorTests {
    let valid: [String: Value] = ["ref": .string("main")]

    func launched(_ h: LaunchHarness, audit: AuditContext?, actor: String? = nil) throws -> RunRecord {
        // Queued: the runs of one test do not refuse each other.
        var request = try h.request(valid, onConflict: "queue", audit: audit)
        request.actor = actor
        guard case .accepted(let run) = try h.service.launch(request, at: LaunchHarness.t0) else {
            throw TestFailure("not accepted")
        }
        return try #require(try h.store.load(run.id)?.run)
    }

    /// The API's token name and a schedule's `schedule` come with their audit context;
    /// `runner apply` gives `cli:<user>` without being audited; a local hook gives none.
    @Test func eachFrontDoorsActorIsRecorded() throws {
        let h = try LaunchHarness()
        #expect(try launched(h, audit: AuditContext(actor: "ci", traceID: "t")).actor == "ci")
        #expect(try launched(h, audit: AuditContext(actor: "schedule")).actor == "schedule")
        let audited = try h.store.audit(limit: 10).count
        let applied = try launched(h, audit: nil, actor: "cli:alice")
        #expect(applied.actor == "cli:alice")
        #expect(try h.store.audit(limit: 10).count == audited, "apply is still not audited")
        #expect(try launched(h, audit: nil).actor == nil)
        #expect(try launched(h, audit: AuditContext(actor: "ci"), actor: "cli:bob").actor == "cli:bob",
                "the request's own actor first")
        #expect(Set(try h.runs().compactMap(\.actor)) == ["ci", "schedule", "cli:alice", "cli:bob"], "lists carry it")
    }

    @Test func aRetryKeepsTheOriginalsActorUnlessItHasItsOwn() throws {
        let h = try LaunchHarness()
        let original = try launched(h, audit: AuditContext(actor: "ci"))
        try h.store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: LaunchHarness.t0),
                           .runStatus(.failed, errorCode: "E", message: nil, wakeAt: nil, at: LaunchHarness.t0)],
                          to: original.id)
        guard case .accepted(let kept) = try h.service.retry(original.id, from: "work", trigger: .cli, audit: nil),
              case .accepted(let own) = try h.service.retry(original.id, from: "work", trigger: .api,
                                                             audit: AuditContext(actor: "ops")) else {
            Issue.record("a retry was not accepted")
            return
        }
        #expect(try h.store.load(kept.id)?.run.actor == "ci")
        #expect(try h.store.load(own.id)?.run.actor == "ops")
    }

    /// A real step sees its run's actor; a run without one has the variable set, empty.
    @Test func stepsSeeTheActor() async throws {
        let f = try ExecutorFixture("""
        version: 1
        name: actor
        steps:
          - {name: who, run: 'echo "actor=${RUNNER_ACTOR-unset}" >> ledger'}
        """)
        let service = try f.service()
        let named = try f.launch(service, actor: "ops-bot")
        #expect(try await service.execute(named).run.status == .succeeded)
        let anonymous = try f.launch(service)
        #expect(try await service.execute(anonymous).run.status == .succeeded)
        #expect(f.file("ledger") == "actor=ops-bot\nactor=\n")
    }
}
