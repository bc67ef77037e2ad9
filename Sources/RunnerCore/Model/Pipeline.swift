/// A pipeline definition as written, typed. Locations are kept for every field a later check
/// may need to point at. Built by the YAML loader; checked by `PipelineValidator`.
public struct Pipeline: Sendable {
    public var file: String
    public var location: SourceLocation
    public var version: Located<Int>
    public var name: Located<String>
    public var description: String?
    public var params: [ParamSpec]
    public var concurrency: ConcurrencyPolicy?
    public var idempotency: IdempotencyPolicy?
    public var triggers: Triggers
    public var env: [EnvironmentEntry]
    public var defaults: StepDefaults
    public var retention: Located<Duration>?
    /// A clean checkout of a gitref param's commit, the steps' working directory.
    public var workspace: WorkspaceSpec?
    /// Which main steps count toward the run's progress, and how much (`RunProgress`).
    public var progress: ProgressSpec?
    public var errors: [ErrorClass]
    public var stages: [Stage]
    /// True when the file used the top-level `steps` shorthand (one stage named `main`).
    public var usesStepsShorthand: Bool
    public var rollback: [Step]
    public var finally: [Step]
    /// The API contract the pipeline is served under (`api:`), if any.
    public var contract: APIContract?

    public init(file: String, location: SourceLocation, version: Located<Int>, name: Located<String>) {
        self.file = file
        self.location = location
        self.version = version
        self.name = name
        self.params = []
        self.triggers = Triggers()
        self.env = []
        self.defaults = StepDefaults()
        self.errors = []
        self.stages = []
        self.usesStepsShorthand = false
        self.rollback = []
        self.finally = []
    }

    public func param(named name: String) -> ParamSpec? {
        params.first { $0.name.value == name }
    }

    /// Every step of the file: main steps in stage order, then rollback, then finally.
    public var allSteps: [Step] {
        stages.flatMap(\.steps) + rollback + finally
    }
}

/// One variable of `env`: a value written in the pipeline, or (`{from_env: VAR}`) the value
/// of the runner's own environment variable `VAR` when the run executes, never stored with
/// the run; `secret` masks it wherever the run's output goes.
public struct EnvironmentEntry: Hashable, Sendable {
    public var name: Located<String>
    /// The value written in the pipeline (empty for `from_env`).
    public var value: String
    /// The runner's environment variable the value comes from.
    public var fromEnvironment: Located<String>?
    public var isSecret = false
    /// For `from_env`: a run cannot start while the variable is unset (default true).
    public var isRequired = true

    public init(name: Located<String>, value: String) {
        self.name = name
        self.value = value
    }

    /// The value steps get: the written one, or the runner's variable (nil when it is unset).
    public func resolved(in environment: [String: String]) -> String? {
        guard let source = fromEnvironment else { return value }
        return environment[source.value]
    }
}

public struct Stage: Sendable {
    public var name: Located<String>
    public var description: String?
    public var steps: [Step]

    public init(name: Located<String>, description: String? = nil, steps: [Step] = []) {
        self.name = name
        self.description = description
        self.steps = steps
    }
}

public struct ConcurrencyPolicy: Hashable, Sendable {
    public enum OnConflict: String, CaseIterable, Hashable, Sendable {
        case reject, queue
        case cancelRunning = "cancel_running"
        case skip
    }

    public var group: Located<String>?
    public var key: ParsedExpression?
    public var onConflict: OnConflict
    public var errorCode: Located<String>?
    public var location: SourceLocation

    public init(location: SourceLocation) {
        self.onConflict = .reject
        self.location = location
    }

    public static let defaultErrorCode = "RUN_ALREADY_ACTIVE"
}

public struct IdempotencyPolicy: Hashable, Sendable {
    public var isRequired: Bool = false
    public var ttl: Located<Duration>?
    public var errorCode: Located<String>?
    public var scope: Scope = .key
    public var location: SourceLocation

    public init(location: SourceLocation) { self.location = location }

    /// What one key names. `key`: the caller and route's key, bound to its payload (the same
    /// key with another payload is refused, 422: the IETF draft). `payload`: the caller,
    /// route, key and payload together (seed 002's operator + endpoint + payload hash): the
    /// same key with another payload is another request.
    public enum Scope: String, CaseIterable, Hashable, Sendable {
        case key, payload
    }

    public static let defaultTTL: Duration = .seconds(86_400)
    public static let defaultErrorCode = "MISSING_IDEMPOTENCY_KEY"
}

public struct Triggers: Sendable {
    public var api: APITrigger?
    public var schedules: [ScheduleTrigger] = []
    public var git: GitTrigger?

    public init() {}
}

public struct APITrigger: Hashable, Sendable {
    public var path: Located<String>
    public var notFoundErrorCode: Located<String>?

    public init(path: Located<String>) { self.path = path }

    public static let defaultNotFoundErrorCode = "RUN_NOT_FOUND"
}

public struct ScheduleTrigger: Sendable {
    public var cron: Located<CronExpression>
    public var timezone: Located<String>?
    public var params: [(name: Located<String>, value: Located<Value>)]
    public var location: SourceLocation

    public init(cron: Located<CronExpression>, location: SourceLocation) {
        self.cron = cron
        self.params = []
        self.location = location
    }
}

public struct GitTrigger: Hashable, Sendable {
    public enum Event: String, CaseIterable, Hashable, Sendable {
        case postReceive = "post-receive"
        case postCommit = "post-commit"
        case postMerge = "post-merge"
        case referenceTransaction = "reference-transaction"
    }

    public var events: [Event] = []
    public var refs: [Located<String>] = []
    public var param: Located<String>?
    public var location: SourceLocation

    public init(location: SourceLocation) { self.location = location }
}

public struct StepDefaults: Sendable {
    public var timeout: Located<Duration>?
    public var retry: Located<RetryPolicy>?
    public var shell: Shell?
    public var workdir: Located<String>?

    public init() {}
}

/// `workspace: {from: params.NAME}`: each run gets a checkout of the commit the gitref param
/// NAME resolved to, under `.runner/workspaces/<run>/`; steps run there (`workdir` is
/// relative to it).
public struct WorkspaceSpec: Hashable, Sendable {
    /// The gitref param whose commit is checked out.
    public var param: Located<String>
    public var location: SourceLocation

    public init(param: Located<String>, location: SourceLocation) {
        self.param = param
        self.location = location
    }
}

/// `progress: {weights: {STEP: N}}`: the main steps that count toward the run's progress,
/// each with its weight (an integer above 0). Without it, every main step counts once.
public struct ProgressSpec: Sendable {
    public var weights: [(step: Located<String>, weight: Located<Int>)]
    public var location: SourceLocation

    public init(weights: [(step: Located<String>, weight: Located<Int>)], location: SourceLocation) {
        self.weights = weights
        self.location = location
    }
}
