import FoundationEssentials
import RunnerCore

/// Launches with an Idempotency-Key: the claim, the wait for a racing request, and keeping or
/// letting go the key once the launch is answered.
extension RunService {
    func launch(_ request: LaunchRequest, keyedBy key: IdempotencyRequest, at now: Date) throws -> LaunchOutcome {
        let clock = SteadyClock(wall: now)
        let deadline = Monotonic.now() + key.patience
        while true {
            let claimedAt = clock.now()
            let claim: IdempotencyClaim
            do {
                claim = try store.claimIdempotencyKey(scope: key.scope, key: key.key, payloadHash: key.payloadHash,
                                                      now: claimedAt, expiresAt: claimedAt.addingTimeInterval(key.ttl))
            } catch {
                throw OperationFailure(.recordingKey, error)
            }
            switch claim {
            case .replay(let status, let body):
                return .replayed(status: status, body: body)
            case .mismatch:
                audit(request, action: "launch_rejected", code: DiagnosticCode.idempotencyKeyReused.rawValue,
                      params: request.auditedInputs, at: claimedAt)
                return .keyMismatch
            case .inFlight:
                if Monotonic.now() < deadline {
                    Threads.sleep(seconds: 0.02)
                    continue
                }
                audit(request, action: "launch_rejected", code: DiagnosticCode.idempotencyKeyInFlight.rawValue,
                      params: request.auditedInputs, at: clock.now())
                return .keyInFlight
            case .proceed:
                return try launch(request, claimed: key, at: claimedAt)
            }
        }
    }

    /// Only an accepted (or skipped) launch is remembered: after a refusal or a failure the
    /// same key may be sent again once the cause is gone.
    private func launch(_ request: LaunchRequest, claimed key: IdempotencyRequest,
                        at now: Date) throws -> LaunchOutcome {
        let outcome: LaunchOutcome
        do {
            outcome = try admit(request, at: now)
        } catch {
            try? store.releaseIdempotencyKey(scope: key.scope, key: key.key)
            throw error
        }
        switch outcome {
        case .accepted(let run), .skipped(let run, _):
            let response = key.response(outcome)
            try? store.completeIdempotencyKey(scope: key.scope, key: key.key, status: response.status,
                                              body: response.body, runID: run.id)
        case .rejected, .invalid, .replayed, .keyMismatch, .keyInFlight:
            try? store.releaseIdempotencyKey(scope: key.scope, key: key.key)
        }
        return outcome
    }
}
