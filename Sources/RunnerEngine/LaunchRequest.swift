import FoundationEssentials
import RunnerCore

/// What a front door asks the engine to launch (`RunService.launch`): the pipeline, its params
/// as given, what launched it and who, and for the API an Idempotency-Key. Every front door
/// (API, schedules, git hooks, `runner apply`) makes one; none checks, records or audits
/// a launch itself.
public struct LaunchRequest: Sendable {
    public enum Params: Sendable {
        /// As given: checked against the declarations and gitrefs resolved (`LaunchCheck`).
        case given([(name: String, input: ParamInput)])
        /// Already checked by the front door (`runner apply` shows its plan, or its errors,
        /// before it opens the run state).
        case checked(LaunchCheck.Checked)
    }

    public var pipeline: LoadedPipeline
    public var params: Params
    public var trigger: Trigger
    /// What launched the run, beyond `trigger` (a hook's event, ref and pusher; a schedule's
    /// firing), recorded with it.
    public var triggerDetail: [String: String] = [:]
    /// Who launches, for the audit log; nil: not audited (`runner apply` and local hooks run
    /// the pipeline as the account that could run its scripts anyway).
    public var audit: AuditContext?
    /// Who launches, recorded as the run's actor when it is not audited (`runner apply`:
    /// `cli:<user>`); nil: the audit context's actor.
    public var actor: String?
    /// A gitref param's repository instead of its `repo` (a hook resolves in its repository).
    public var repositories: [String: String] = [:]
    public var parallelism: Int
    public var idempotency: IdempotencyRequest?
    /// Why the front door could not read the request's params (an API body that is not a JSON
    /// object): answered `.invalid` with it, after the Idempotency-Key is checked.
    public var unreadable: Diagnostic?

    public init(pipeline: LoadedPipeline, params: Params, trigger: Trigger, parallelism: Int) {
        self.pipeline = pipeline
        self.params = params
        self.trigger = trigger
        self.parallelism = parallelism
    }

    /// The run's actor: `actor`, else the audit context's (the API token's name, `schedule`).
    public var runActor: String? { actor ?? audit?.actor }

    /// Params given as values, by name (the API's and a schedule's).
    public static func given(_ values: [String: Value]) -> Params {
        .given(values.keys.sorted().compactMap { name in values[name].map { (name: name, input: .value($0)) } })
    }

    /// The params as given, for the audit log of a refused launch: secret params and names the
    /// pipeline does not declare (a misspelt secret) as `***`, long strings cut to 256
    /// characters (a refused body may hold a megabyte).
    public var auditedInputs: [String: Value] {
        let given: [(name: String, value: Value)] = switch params {
        case .given(let inputs): inputs.map { ($0.name, $0.input.given) }
        case .checked(let checked): checked.params.map { ($0.key, $0.value) }
        }
        let specs = Dictionary(pipeline.pipeline.pipeline.params.map { ($0.name.value, $0) },
                               uniquingKeysWith: { a, _ in a })
        func cut(_ value: Value) -> Value {
            switch value {
            case .string(let s) where s.count > 256: return .string(String(s.prefix(256)) + "…")
            case .list(let items): return .list(items.prefix(100).map(cut))
            default: return value
            }
        }
        return given.reduce(into: [:]) { shown, param in
            let spec = specs[param.name]
            shown[param.name] = spec.map { $0.isSecret ? .string("***") : cut(param.value) } ?? .string("***")
        }
    }
}

extension ParamInput {
    /// The input as a value: text as the string it is.
    var given: Value {
        switch self {
        case .value(let value): value
        case .text(let text): .string(text)
        }
    }
}

/// Who did it, for the audit log: the API token's name, `schedule`, `cli:<user>`; and the
/// trace id of the request (`traceparent`, `X-Request-Id`).
public struct AuditContext: Sendable {
    public var actor: String
    public var traceID: String?

    public init(actor: String, traceID: String? = nil) {
        self.actor = actor
        self.traceID = traceID
    }
}

/// A launch sent with an Idempotency-Key: the key in its scope (caller + route), the hash of
/// the payload it is bound to, how long its first response is kept, and how that response
/// is written (the front door's rendering of the outcome; it is replayed byte for byte).
public struct IdempotencyRequest: Sendable {
    public var scope: String
    public var key: String
    public var payloadHash: String
    /// Seconds the first response is kept.
    public var ttl: Double
    /// Seconds a request racing the first one with its key waits for its answer.
    public var patience: Double = 10
    /// The first response, kept for an accepted or skipped launch: the key's later requests
    /// get it back as `.replayed`. A refused launch's key is let go instead, so the same key
    /// may be sent again once the cause is gone.
    public var response: @Sendable (LaunchOutcome) -> (status: Int, body: [UInt8])

    public init(scope: String, key: String, payloadHash: String, ttl: Double,
                response: @escaping @Sendable (LaunchOutcome) -> (status: Int, body: [UInt8])) {
        self.scope = scope
        self.key = key
        self.payloadHash = payloadHash
        self.ttl = ttl
        self.response = response
    }
}
