import FoundationEssentials
import RunnerCore

/// A run as JSON: `apply --json`, `runs show --json`, `runs list --json` and the API share this
/// shape (written by `RunJSON+Writing.swift`, its keys as the API documents them).
public struct RunJSON: Sendable {
    public struct Step: Sendable {
        public var name: String
        public var step: String
        public var item: String?
        public var section: String
        public var status: String
        public var attempts: Int
        public var errorCode: String?
        public var errorMessage: String?
        public var progress: Int?
        public var progressMessage: String?
        public var startedAt: String?
        public var finishedAt: String?
        public var outputs: [String: String]
        /// For a failed step (the API): whether its error is one its pipeline retries (a
        /// transient failure: trying again may work).
        public var retryable: Bool?
    }

    public struct Attempt: Sendable {
        public var step: String
        public var serial: Int
        public var attempt: Int
        public var counted: Bool
        public var startedAt: String
        public var finishedAt: String?
        public var exitCode: Int32?
        public var signal: Int32?
        public var timedOut: Bool
        public var errorCode: String?
        public var message: String?
        public var log: String?
    }

    public struct Ref: Sendable {
        public var ref: String
        public var sha: String
        public var repository: String
    }

    public var id: String
    public var pipeline: String
    public var status: String
    public var trigger: String
    /// Who launched the run (the API token's name, `cli:<user>`, `schedule`), when recorded.
    public var actor: String?
    /// What launched the run beyond `trigger` (a hook: event, ref, old, new, pusher).
    public var triggerDetail: [String: String]?
    public var params: [String: Value]
    /// Each gitref param as given and the commit it resolved to when the run was created.
    public var refs: [String: Ref]?
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    public var wakeAt: String?
    public var errorCode: String?
    public var errorMessage: String?
    /// For a failed run (the API): whether the error that failed it is a transient one (seed 000).
    public var retryable: Bool?
    public var steps: [Step]?
    public var attempts: [Attempt]?
    /// The run's overall progress (0..100) and last progress message, from its steps
    /// (`RunProgress`); set by the caller, which knows the weights (`setProgress`).
    public var progress: Int?
    public var progressMessage: String?

    public static func time(_ date: Date?) -> String? {
        date.map(Timestamp.format)
    }

    /// The run as shown: the params named in `masked` (its secret ones: see
    /// `RunRecord.maskedParams`) as `***`.
    public init(_ run: RunRecord, masked: Set<String>, steps: [StepRecord]? = nil, attempts: [AttemptRecord]? = nil) {
        id = run.id.rawValue
        pipeline = run.pipeline
        status = run.status.rawValue
        trigger = run.trigger.rawValue
        actor = run.actor
        params = run.params.reduce(into: [:]) { $0[$1.key] = masked.contains($1.key) ? .string("***") : $1.value }
        triggerDetail = run.triggerDetail.isEmpty ? nil : run.triggerDetail
        refs = run.refs.isEmpty ? nil : run.refs.reduce(into: [:]) { out, entry in
            let ref = masked.contains(entry.key) ? "***" : run.params[entry.key]?.environmentText ?? ""
            out[entry.key] = Ref(ref: ref, sha: entry.value.sha, repository: entry.value.repository)
        }
        createdAt = Self.time(run.createdAt) ?? ""
        startedAt = Self.time(run.startedAt)
        finishedAt = Self.time(run.finishedAt)
        wakeAt = Self.time(run.wakeAt)
        errorCode = run.errorCode
        errorMessage = run.errorMessage
        self.steps = steps?.map(Self.step)
        self.attempts = attempts?.map(Self.attempt)
    }

    /// Sets `progress` and `progressMessage` from the run's step records and its pipeline's
    /// weights (`RunProgress.weights(of:)`).
    public mutating func setProgress(of steps: [StepRecord], weights: [String: Int]) {
        (progress, progressMessage) = RunProgress.compute(steps: steps, weights: weights)
    }

    public init(_ stored: StoredRun, masked: Set<String>) {
        self.init(stored.run, masked: masked, steps: stored.steps, attempts: stored.attempts)
    }

    public static func step(_ s: StepRecord) -> Step {
        Step(name: s.name.rawValue, step: s.step, item: s.item, section: s.section, status: s.status.rawValue,
             attempts: s.attempts, errorCode: s.errorCode, errorMessage: s.errorMessage, progress: s.progress,
             progressMessage: s.progressMessage, startedAt: time(s.startedAt), finishedAt: time(s.finishedAt),
             outputs: s.outputs)
    }

    public static func attempt(_ a: AttemptRecord) -> Attempt {
        Attempt(step: a.step.rawValue, serial: a.serial, attempt: a.attempt, counted: a.counted,
                startedAt: time(a.startedAt) ?? "", finishedAt: time(a.finishedAt), exitCode: a.exitCode,
                signal: a.signal, timedOut: a.timedOut, errorCode: a.errorCode, message: a.message, log: a.logPath)
    }
}
