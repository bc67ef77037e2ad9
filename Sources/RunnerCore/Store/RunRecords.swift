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

    public init(pipeline: String? = nil, statuses: [RunStatus] = [], limit: Int = 50, before: RunID? = nil) {
        self.pipeline = pipeline
        self.statuses = statuses
        self.limit = limit
        self.before = before
    }
}

/// Durable run state. The engine reaches storage only through this protocol.
public protocol RunStore: AnyObject, Sendable {
    /// Whether the store's writes succeed now (see `StoreHealth`).
    var health: StoreHealth { get }
    func createRun(_ run: RunRecord, steps: [StepRecord]) throws
    /// Creates the run unless a run of its concurrency group is unfinished; then returns that
    /// run and creates nothing. Check and insert are one transaction.
    func createRun(_ run: RunRecord, steps: [StepRecord], unlessActiveIn group: String) throws -> RunRecord?
    /// Applies the changes in one transaction, unfenced (a run nobody executes).
    func apply(_ changes: [StoreChange], to run: RunID) throws
    /// Applies the changes in one transaction under `lease`, and extends the lease to
    /// `leaseUntil` when given: first of all, the transaction checks that the lease is still
    /// the run's (owner and epoch); if not, it throws `LeaseLost` and changes nothing. An empty
    /// list of changes only checks (and renews) the lease.
    func apply(_ changes: [StoreChange], under lease: Lease, leaseUntil: Date?) throws
    /// Takes the run if nobody holds a live lease on it: its epoch is bumped, so the lease of
    /// whoever held it before is void. Nil when the run is finished, missing or held.
    func claim(_ run: RunID, owner: String, until: Date, now: Date, isOwnerAlive: (String) -> Bool) throws -> Lease?
    /// Claims a run nobody has ever claimed (still queued, no owner): one that has not started.
    func claimUnstarted(_ run: RunID, owner: String, until: Date) throws -> Lease?
    /// Gives the run up, if `lease` is still its lease.
    func releaseLease(_ lease: Lease) throws
    func load(_ run: RunID) throws -> StoredRun?
    /// `load`, without the definition unless `definition` (a caller holding the parsed
    /// pipeline has no use for its text, which a large pipeline makes long).
    func load(_ run: RunID, definition: Bool) throws -> StoredRun?
    /// What an executor starts from: `load`, except that a run none of whose steps has started
    /// (queued, every step queued at serial 0) comes without its steps and attempts, which
    /// the executor knows without reading them, and without its definition unless `definition`
    /// (an executor given the parsed pipeline does not read it).
    func loadForExecution(_ run: RunID, definition: Bool) throws -> StoredRun?
    /// The runs the query selects, newest first, without their definitions.
    func runs(_ query: RunQuery) throws -> [RunRecord]
    func events(of run: RunID, after id: Int64) throws -> [RunEvent]
    /// Asks the run's owner to cancel it (a flag the owner polls).
    func requestCancel(_ run: RunID, at: Date) throws -> Bool
    func isCancelRequested(_ run: RunID) throws -> Bool
    /// The oldest unfinished run of `group` created before `run` (what a queued run waits for).
    func activeRun(inGroup group: String, before run: RunRecord) throws -> RunRecord?
}

extension RunStore {
    public func load(_ run: RunID, definition: Bool) throws -> StoredRun? {
        guard var stored = try load(run) else { return nil }
        if !definition { stored.run.definition = "" }
        return stored
    }

    public func loadForExecution(_ run: RunID, definition: Bool) throws -> StoredRun? {
        guard var stored = try load(run) else { return nil }
        if stored.isFresh {
            stored.steps = []
            stored.attempts = []
        }
        return stored
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
