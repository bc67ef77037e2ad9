import Foundation
import RunnerCore

/// A run as JSON: `apply --json`, `runs show --json` and (later) the API share this shape.
struct RunJSON: Encodable {
    struct Step: Encodable {
        var name: String
        var step: String
        var item: String?
        var section: String
        var status: String
        var attempts: Int
        var errorCode: String?
        var errorMessage: String?
        var progress: Int?
        var progressMessage: String?
        var startedAt: String?
        var finishedAt: String?
        var outputs: [String: String]

        enum CodingKeys: String, CodingKey {
            case name, step, item, section, status, attempts, errorCode = "error_code", errorMessage = "error_message", progress
            case progressMessage = "progress_message", startedAt = "started_at", finishedAt = "finished_at", outputs
        }
    }

    struct Attempt: Encodable {
        var step: String
        var serial: Int
        var attempt: Int
        var counted: Bool
        var startedAt: String
        var finishedAt: String?
        var exitCode: Int32?
        var signal: Int32?
        var timedOut: Bool
        var errorCode: String?
        var message: String?
        var log: String?

        enum CodingKeys: String, CodingKey {
            case step, serial, attempt, counted, startedAt = "started_at", finishedAt = "finished_at", exitCode = "exit_code", signal
            case timedOut = "timed_out", errorCode = "error_code", message, log
        }
    }

    var id: String
    var pipeline: String
    var status: String
    var trigger: String
    var params: [String: Value]
    var createdAt: String
    var startedAt: String?
    var finishedAt: String?
    var wakeAt: String?
    var errorCode: String?
    var errorMessage: String?
    var steps: [Step]?
    var attempts: [Attempt]?

    enum CodingKeys: String, CodingKey {
        case id, pipeline, status, trigger, params, createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
        case wakeAt = "wake_at", errorCode = "error_code", errorMessage = "error_message", steps, attempts
    }

    static func time(_ date: Date?) -> String? {
        date.map(Timestamp.format)
    }

    init(_ run: RunRecord, secrets: Set<String> = [], steps: [StepRecord]? = nil, attempts: [AttemptRecord]? = nil) {
        id = run.id.rawValue
        pipeline = run.pipeline
        status = run.status.rawValue
        trigger = run.trigger.rawValue
        params = run.params.reduce(into: [:]) { $0[$1.key] = secrets.contains($1.key) ? .string("***") : $1.value }
        createdAt = Self.time(run.createdAt) ?? ""
        startedAt = Self.time(run.startedAt)
        finishedAt = Self.time(run.finishedAt)
        wakeAt = Self.time(run.wakeAt)
        errorCode = run.errorCode
        errorMessage = run.errorMessage
        self.steps = steps?.map {
            Step(name: $0.name.rawValue, step: $0.step, item: $0.item, section: $0.section, status: $0.status.rawValue,
                 attempts: $0.attempts, errorCode: $0.errorCode, errorMessage: $0.errorMessage, progress: $0.progress,
                 progressMessage: $0.progressMessage, startedAt: Self.time($0.startedAt), finishedAt: Self.time($0.finishedAt),
                 outputs: $0.outputs)
        }
        self.attempts = attempts?.map {
            Attempt(step: $0.step.rawValue, serial: $0.serial, attempt: $0.attempt, counted: $0.counted,
                    startedAt: Self.time($0.startedAt) ?? "", finishedAt: Self.time($0.finishedAt), exitCode: $0.exitCode,
                    signal: $0.signal, timedOut: $0.timedOut, errorCode: $0.errorCode, message: $0.message, log: $0.logPath)
        }
    }

    init(_ stored: StoredRun, secrets: Set<String>) {
        self.init(stored.run, secrets: secrets, steps: stored.steps, attempts: stored.attempts)
    }
}
