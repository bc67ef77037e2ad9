import FoundationEssentials

/// A run's id: sortable by creation time and readable (`20261123-053012-4f2a9c`).
public struct RunID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public var rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static func generate<R: RandomNumberGenerator>(at date: Date, using random: inout R) -> RunID {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let stamp = Timestamp.format(Timestamp.Instant(epochSeconds: seconds, milliseconds: 0))
        let digits = stamp.filter { $0.isNumber }
        let suffix = String(UInt32.random(in: 0..<(1 << 24), using: &random), radix: 16)
        return RunID("\(digits.prefix(8))-\(digits.dropFirst(8).prefix(6))-\(String(repeating: "0", count: 6 - suffix.count))\(suffix)")
    }

    public var description: String { rawValue }
    public static func < (a: RunID, b: RunID) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// What started a run; steps see it as `RUNNER_TRIGGER`.
public enum Trigger: String, Sendable, Codable, CaseIterable {
    case cli, api, hook, schedule
}

public struct RunRecord: Sendable {
    public var id: RunID
    public var pipeline: String
    public var pipelineFile: String
    /// The pipeline's YAML when the run was created: resume runs exactly this definition.
    public var definition: String
    public var status: RunStatus
    public var trigger: Trigger
    public var params: [String: Value]
    /// The commit each gitref param resolved to when the run was created, by param name (the
    /// ref as given stays in `params`).
    public var refs: [String: RecordedRef] = [:]
    /// What launched the run, beyond `trigger`: for a git hook its event, ref, old and new
    /// SHA and pusher.
    public var triggerDetail: [String: String] = [:]
    /// Who launched the run: the API token's name, `cli:<user>`, `schedule` (the launch's
    /// audit actor; a retry's own, else the original's). Steps see it as `RUNNER_ACTOR`.
    public var actor: String?
    public var parallelism: Int
    public var concurrencyGroup: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var updatedAt: Date
    public var wakeAt: Date?
    public var errorCode: String?
    public var errorMessage: String?
    public var owner: String?
    public var leaseUntil: Date?
    /// Bumped by each claim of the run (see `Lease`).
    public var epoch: Int64 = 0
    /// The names of the run's secret params, stored with it: whatever shows the run masks
    /// their values without needing its definition (a definition that no longer loads must
    /// not unmask them). Nil for a run recorded by a runner that did not store them.
    public var secretParams: Set<String>? = []

    public init(id: RunID, pipeline: String, pipelineFile: String, definition: String, trigger: Trigger,
                params: [String: Value], parallelism: Int, createdAt: Date) {
        self.id = id
        self.pipeline = pipeline
        self.pipelineFile = pipelineFile
        self.definition = definition
        self.status = .queued
        self.trigger = trigger
        self.params = params
        self.parallelism = parallelism
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

public struct StepRecord: Sendable {
    public var name: StepName
    /// The step's own name (without the `[item]` of a for_each instance).
    public var step: String
    public var item: String?
    public var section: String
    public var position: Int
    public var status: StepStatus = .queued
    public var attempts = 0
    public var serial = 0
    public var retryAt: Date?
    public var errorCode: String?
    public var errorMessage: String?
    public var progress: Int?
    public var progressMessage: String?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var outputs: [String: String] = [:]

    public init(name: StepName, step: String, item: String?, section: String, position: Int) {
        self.name = name
        self.step = step
        self.item = item
        self.section = section
        self.position = position
    }
}

public struct AttemptRecord: Sendable {
    public var step: StepName
    public var serial: Int
    public var attempt: Int
    public var counted = true
    public var startedAt: Date
    public var finishedAt: Date?
    public var pid: Int32?
    public var exitCode: Int32?
    public var signal: Int32?
    public var timedOut = false
    public var errorCode: String?
    public var message: String?
    public var logPath: String?

    public init(step: StepName, serial: Int, attempt: Int, startedAt: Date) {
        self.step = step
        self.serial = serial
        self.attempt = attempt
        self.startedAt = startedAt
    }

    public var isInFlight: Bool { finishedAt == nil }
}

public struct RunEvent: Sendable {
    public var id: Int64
    public var at: Date
    public var kind: String
    public var step: String?
    public var status: String?
    public var message: String?

    public init(id: Int64, at: Date, kind: String, step: String?, status: String?, message: String?) {
        self.id = id
        self.at = at
        self.kind = kind
        self.step = step
        self.status = status
        self.message = message
    }
}

/// Everything stored about one run.
public struct StoredRun: Sendable {
    public var run: RunRecord
    public var steps: [StepRecord]
    public var attempts: [AttemptRecord]

    public init(run: RunRecord, steps: [StepRecord], attempts: [AttemptRecord]) {
        self.run = run
        self.steps = steps
        self.attempts = attempts
    }
}

/// One change to a run's durable state. The engine applies each batch in one transaction.
public enum StoreChange: Sendable {
    case runStatus(RunStatus, errorCode: String?, message: String?, wakeAt: Date?, at: Date)
    case stepStatus(StepName, StepStatus, attempts: Int, serial: Int, retryAt: Date?, errorCode: String?, message: String?, at: Date)
    case attemptStarted(AttemptRecord)
    case attemptProcess(StepName, serial: Int, pid: Int32)
    /// An attempt the launch journal shows was started but whose record was lost with the
    /// runner (killed between the launch and the commit): recorded as interrupted, not
    /// counted; the step's serial moves past it.
    case lostAttempt(AttemptRecord)
    case attemptFinished(StepName, serial: Int, end: AttemptEnd, errorCode: String?, message: String?, counted: Bool, at: Date)
    case outputs(StepName, [String: String])
    case progress(StepName, percent: Int, message: String?)
}

/// Filter for listing runs.
public struct RunQuery: Sendable {
    public var pipeline: String?
    public var statuses: [RunStatus] = []
    public var limit = 50
    /// Runs created before this id (cursor paging, newest first).
    public var before: RunID?
    /// Only the runs this actor launched.
    public var actor: String?

    public init(pipeline: String? = nil, statuses: [RunStatus] = [], limit: Int = 50, before: RunID? = nil,
                actor: String? = nil) {
        self.pipeline = pipeline
        self.statuses = statuses
        self.limit = limit
        self.before = before
        self.actor = actor
    }
}

extension StoredRun {
    /// Queued, and no step started yet: nothing to restore.
    public var isFresh: Bool { run.status == .queued && steps.allSatisfy { $0.status == .queued && $0.serial == 0 } }
}

/// The commit a gitref param resolved to, and the repository it was resolved in (the param's
/// `repo`, or the repository a git hook fired in).
public struct RecordedRef: Codable, Hashable, Sendable {
    public var sha: String
    public var repository: String

    public init(sha: String, repository: String) {
        self.sha = sha
        self.repository = repository
    }
}
