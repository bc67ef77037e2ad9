import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import Testing

/// Launches with an Idempotency-Key: the claim, the replay of the first response, a reused key,
/// a key in flight, and a key let go after a refusal.
@Suite struct IdempotentLaunchTests {
    let valid: [String: Value] = ["target": .string("staging"), "ref": .string("main")]

    func keyed(_ h: LaunchHarness, _ params: [String: Value], key: String = "k-1", payload: String = "p-1",
               patience: Double = 10) throws -> LaunchRequest {
        var request = try h.request(params)
        request.idempotency = LaunchHarness.key(key, payload: payload)
        request.idempotency?.patience = patience
        return request
    }

    @Test func theFirstResponseIsReplayedAndOneRunRecorded() throws {
        let h = try LaunchHarness()
        guard case .accepted(let run) = try h.service.launch(try keyed(h, valid)) else {
            Issue.record("not accepted")
            return
        }
        #expect(run.idempotencyKey == IdempotencyKey(scope: "ci POST /runs", key: "k-1"), "the run records its key")
        guard case .replayed(let status, let body) = try h.service.launch(try keyed(h, valid)) else {
            Issue.record("not replayed")
            return
        }
        #expect(status == 202 && body == Array(run.id.rawValue.utf8))
        #expect(try h.runs().count == 1)
    }

    @Test func aKeyReusedWithAnotherPayloadIsRefusedAndAudited() throws {
        let h = try LaunchHarness()
        _ = try h.service.launch(try keyed(h, valid))
        guard case .keyMismatch = try h.service.launch(try keyed(h, valid, payload: "p-2")) else {
            Issue.record("not a mismatch")
            return
        }
        let entry = try #require(try h.newestAudit())
        #expect(entry.action == "launch_rejected" && entry.code == DiagnosticCode.idempotencyKeyReused.rawValue)
        #expect(try h.runs().count == 1)
    }

    @Test func aKeyStillInFlightIsRefusedOnceThePatienceIsOver() throws {
        let h = try LaunchHarness()
        let t = LaunchHarness.t0
        #expect(try h.store.claimIdempotencyKey(scope: "ci POST /runs", key: "k-1", payloadHash: "p-1", now: t,
                                                expiresAt: t + 60) == .proceed)
        guard case .keyInFlight = try h.service.launch(try keyed(h, valid, patience: 0), at: t) else {
            Issue.record("not in flight")
            return
        }
        #expect(try h.newestAudit()?.code == DiagnosticCode.idempotencyKeyInFlight.rawValue)
        #expect(try h.runs().isEmpty)
    }

    @Test func aKeyIsLetGoAfterARefusalAndMayBeSentAgain() throws {
        let h = try LaunchHarness()
        var bad = valid
        bad["target"] = .string("nope")
        guard case .invalid = try h.service.launch(try keyed(h, bad)) else {
            Issue.record("not invalid")
            return
        }
        guard case .accepted(let first) = try h.service.launch(try keyed(h, valid, payload: "p-2")) else {
            Issue.record("the key was not let go after a 400")
            return
        }
        guard case .rejected = try h.service.launch(try keyed(h, valid, key: "k-2")) else {
            Issue.record("not rejected")
            return
        }
        try h.store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: LaunchHarness.t0),
                           .runStatus(.succeeded, errorCode: nil, message: nil, wakeAt: nil, at: LaunchHarness.t0)],
                          to: first.id)
        guard case .accepted = try h.service.launch(try keyed(h, valid, key: "k-2")) else {
            Issue.record("the key was not let go after a 409")
            return
        }
    }
}
