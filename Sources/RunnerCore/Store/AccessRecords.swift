import FoundationEssentials

/// What an API token may do: each role includes the ones before it.
public enum Role: String, Codable, CaseIterable, Comparable, Sendable {
    /// Reads: runs, pipelines, logs.
    case viewer
    /// And launches, cancels, retries.
    case `operator`
    /// And tokens and the audit log.
    case admin

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// An API token as stored: never the token itself, only its SHA-256.
public struct TokenRecord: Sendable, Equatable {
    /// Public part of the token (`rnr_<id>_<secret>`): finds the record without comparing secrets.
    public var id: String
    public var name: String
    public var role: Role
    public var hash: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, name: String, role: Role, hash: String, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// One line of the audit log: who did what to which run, from which request.
public struct AuditRecord: Sendable, Equatable {
    public var at: Date
    /// `launch`, `cancel`, `retry`; `launch_rejected` (409: the concurrency rule, an
    /// Idempotency-Key in flight or reused), `launch_invalid` (400: body, params, key);
    /// `token_create`, `token_revoke`.
    public var action: String
    /// Why a refused action was refused: the code its answer carried (the pipeline's own
    /// when it declares one: `PUBLISH_ALREADY_ACTIVE`, `INVALID_TARGET`).
    public var code: String?
    public var runID: RunID?
    public var pipeline: String?
    /// The token's name; `schedule`; `cli:<user>` for a command run on this machine (the
    /// account of its effective uid).
    public var actor: String
    /// The run's params, secrets masked (a refused launch: as given, secrets and undeclared
    /// names masked); a token action: the token's `name` and `role`.
    public var params: [String: Value]
    /// `traceparent`'s trace id, or `X-Request-Id`.
    public var traceID: String?

    public init(at: Date, action: String, runID: RunID?, pipeline: String?, actor: String, params: [String: Value], traceID: String?,
                code: String? = nil) {
        self.at = at
        self.action = action
        self.code = code
        self.runID = runID
        self.pipeline = pipeline
        self.actor = actor
        self.params = params
        self.traceID = traceID
    }
}
