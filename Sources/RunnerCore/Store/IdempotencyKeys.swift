import FoundationEssentials

/// What a request with an Idempotency-Key may do, as its claim of the key found it.
public enum IdempotencyClaim: Equatable, Sendable {
    /// No live record: this request goes ahead (now recorded as in flight).
    case proceed
    /// The first request with this key finished: its response.
    case replay(status: Int, body: [UInt8])
    /// The first request with this key is still being processed.
    case inFlight
    /// The key was used with another payload.
    case mismatch
}

/// Idempotency keys: a key is scoped (caller + route), bound to its payload's hash, and keeps
/// the first response until it expires.
///
/// Atomicity contract: a claim is atomic per (scope, key): of concurrent claims of a key that
/// has no live record, exactly one gets `proceed` and the others see it in flight (or, once
/// completed, its response). Keys of other scopes or other keys are independent (PostgreSQL:
/// `INSERT ... ON CONFLICT (scope, key) DO UPDATE ... WHERE expires_at <= now` and read back).
/// `complete` and `release` each change one key's record in one step; `release` lets go only a
/// key still in flight, never a completed one. `settleInFlightIdempotencyKeys` settles key by
/// key (each in one step) and is meant for a server starting, before it takes requests.
public protocol IdempotencyKeys: AnyObject, Sendable {
    /// Checks and claims a key in one step.
    func claimIdempotencyKey(scope: String, key: String, payloadHash: String, now: Date,
                             expiresAt: Date) throws -> IdempotencyClaim
    /// Records the response of a claimed key (replayed from now on).
    func completeIdempotencyKey(scope: String, key: String, status: Int, body: [UInt8], runID: RunID?) throws
    /// Lets a claimed key go (the request failed on the server's side: the client may retry).
    func releaseIdempotencyKey(scope: String, key: String) throws
    /// Keys left in flight by a server that died. A key whose run was created (the run records
    /// its key: `RunRecord.idempotencyKey`) gets `response(run)` as its response; the others
    /// are let go, so a retry goes ahead. Returns how many were settled.
    @discardableResult
    func settleInFlightIdempotencyKeys(response: (RunRecord) -> (status: Int, body: [UInt8])) throws -> Int
    /// Drops the keys expired at `now`; returns how many.
    @discardableResult
    func expireIdempotencyKeys(now: Date) throws -> Int
}

/// The key a request was sent with, in its scope (caller + route).
public struct IdempotencyKey: Hashable, Sendable {
    public var scope: String
    public var key: String

    public init(scope: String, key: String) { (self.scope, self.key) = (scope, key) }
}

extension RunRecord {
    /// The `triggerDetail` entries in which a run launched with an Idempotency-Key records it.
    public static let idempotencyKeyDetail = "idempotency_key"
    public static let idempotencyScopeDetail = "idempotency_scope"

    /// The key the run was launched with, if any.
    public var idempotencyKey: IdempotencyKey? {
        guard let key = triggerDetail[Self.idempotencyKeyDetail],
              let scope = triggerDetail[Self.idempotencyScopeDetail] else { return nil }
        return IdempotencyKey(scope: scope, key: key)
    }
}
