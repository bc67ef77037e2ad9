/// A pipeline's API contract (`api:`): the routes an existing client calls, how each request
/// becomes a launch or a read of runs, and how every answer is written — field names,
/// statuses, timestamps, error bodies — so a client written against another system's API
/// works against `runner serve` unchanged. Decoded by `RunnerYAML`, checked by
/// `PipelineValidator`, served by `RunnerContract` through the server.
public struct APIContract: Sendable {
    public var location: SourceLocation
    /// How a caller may present its token (default: Bearer only).
    public var auth: [AuthScheme] = [.bearer]
    /// How timestamps are written (default: the runner's RFC 3339, `…T12:00:00.123Z`).
    public var timeFormat: Located<TimeFormat>?
    /// The contract's words for run and step states (`succeeded → COMPLETED`).
    public var runStatuses: StatusVocabulary?
    public var stepStatuses: StatusVocabulary?
    /// `own`: a caller sees, lists and cancels only the runs it launched.
    public var visibility: Visibility = .all
    /// The body of every error answer without its own (default: `{code, message, hint}`).
    public var errorBody: ContractTemplate?
    /// Answers per condition (`not_found`) or per code (`INVALID_PATH`).
    public var errors: [ContractErrorAnswer] = []
    public var routes: [ContractRoute] = []

    public init(location: SourceLocation) { self.location = location }

    public enum AuthScheme: String, CaseIterable, Sendable {
        /// `Authorization: Bearer TOKEN`.
        case bearer
        /// `Authorization: Basic base64(user:TOKEN)` (curl `-n` with a netrc): the password is
        /// the token, the user name is not read.
        case basic
    }

    public enum Visibility: String, CaseIterable, Sendable {
        case all, own
    }

    /// The answer for a condition or a code: the first entry naming the code, else the
    /// condition's, else the condition's default status with `errorBody`.
    public func answer(for condition: ContractCondition, code: String?) -> ContractErrorAnswer? {
        if let code, let byCode = errors.first(where: { $0.key.value == code }) { return byCode }
        return errors.first { $0.condition == condition }
    }
}

/// The error conditions a contract can answer in its own shape.
public enum ContractCondition: String, CaseIterable, Sendable {
    /// No token, or one that is unknown, wrong or revoked (401).
    case unauthorized
    /// A token whose role is short (403).
    case forbidden
    /// No such run — or one of another pipeline, or another caller's under `visibility: own` (404).
    case notFound = "not_found"
    /// A body that is not JSON, of the wrong shape, with an unknown field; a path or query
    /// value the route cannot take (an unknown `{type}`) (400).
    case badRequest = "bad_request"
    /// Params that do not pass their declaration or a launch check (400).
    case invalid
    /// The concurrency rule refused the launch: another run is active (409).
    case conflict
    /// A cancel of a run that has already finished (409).
    case cannotCancel = "cannot_cancel"
    /// A retry the run cannot take (409).
    case cannotRetry = "cannot_retry"
    /// `idempotency.required` and no key (400).
    case missingIdempotencyKey = "missing_idempotency_key"
    /// The key was used with another payload (422).
    case idempotencyKeyReused = "idempotency_key_reused"
    /// The first request with the key is still being answered (409).
    case idempotencyKeyInFlight = "idempotency_key_in_flight"
    /// The state store failed (503 or 500).
    case unavailable

    public var defaultStatus: Int {
        switch self {
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .badRequest, .invalid, .missingIdempotencyKey: 400
        case .conflict, .cannotCancel, .cannotRetry, .idempotencyKeyInFlight: 409
        case .idempotencyKeyReused: 422
        case .unavailable: 503
        }
    }
}

/// One entry of `api.errors`: `not_found: {status: 404, body: {errorMessage: ...}}`.
public struct ContractErrorAnswer: Sendable {
    /// The condition's name or a code (an upper-case word such as `INVALID_PATH`).
    public var key: Located<String>
    public var condition: ContractCondition?
    public var status: Located<Int>?
    public var body: ContractTemplate?

    public init(key: Located<String>, condition: ContractCondition?) {
        self.key = key
        self.condition = condition
    }
}

/// `statuses: {run: {queued: RUNNING, ...}}`: every state of the runner has a word.
public struct StatusVocabulary: Sendable {
    public var entries: [(state: Located<String>, word: Located<String>)]
    public var location: SourceLocation

    public init(entries: [(state: Located<String>, word: Located<String>)], location: SourceLocation) {
        self.entries = entries
        self.location = location
    }

    public func word(for state: String) -> String {
        entries.first { $0.state.value == state }?.word.value ?? state
    }
}
