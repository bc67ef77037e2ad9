import Foundation
import RunnerCore
import RunnerJSON

// The reference `JSONWriter` is checked against: a run encoded by JSONEncoder, as the CLI and
// the API wrote it before the writer (synthesized `Encodable`: nil members left out).

/// A key named at the call.
struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedEncodingContainer<Key> {
    mutating func put<T: Encodable>(_ value: T?, _ name: String) throws {
        try encodeIfPresent(value, forKey: Key(name))
    }
}

extension RunJSON: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.put(id, "id"); try c.put(pipeline, "pipeline"); try c.put(status, "status"); try c.put(trigger, "trigger")
        try c.put(triggerDetail, "trigger_detail"); try c.put(params, "params"); try c.put(refs, "refs")
        try c.put(createdAt, "created_at"); try c.put(startedAt, "started_at"); try c.put(finishedAt, "finished_at")
        try c.put(wakeAt, "wake_at"); try c.put(errorCode, "error_code"); try c.put(errorMessage, "error_message")
        try c.put(retryable, "retryable"); try c.put(steps, "steps"); try c.put(attempts, "attempts")
        try c.put(actor, "actor"); try c.put(progress, "progress"); try c.put(progressMessage, "progress_message")
    }
}

extension RunJSON.Step: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.put(name, "name"); try c.put(step, "step"); try c.put(item, "item"); try c.put(section, "section")
        try c.put(status, "status"); try c.put(attempts, "attempts"); try c.put(errorCode, "error_code")
        try c.put(errorMessage, "error_message"); try c.put(progress, "progress")
        try c.put(progressMessage, "progress_message")
        try c.put(startedAt, "started_at"); try c.put(finishedAt, "finished_at"); try c.put(outputs, "outputs")
        try c.put(retryable, "retryable")
    }
}

extension RunJSON.Attempt: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.put(step, "step"); try c.put(serial, "serial"); try c.put(attempt, "attempt")
        try c.put(counted, "counted")
        try c.put(startedAt, "started_at"); try c.put(finishedAt, "finished_at"); try c.put(exitCode, "exit_code")
        try c.put(signal, "signal"); try c.put(timedOut, "timed_out"); try c.put(errorCode, "error_code")
        try c.put(message, "message"); try c.put(log, "log")
    }
}

extension RunJSON.Ref: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.put(ref, "ref"); try c.put(sha, "sha"); try c.put(repository, "repository")
    }
}

/// `value` as JSONEncoder writes it with `.sortedKeys, .withoutEscapingSlashes` (and
/// `.prettyPrinted` when `pretty`); nil when it refuses (a NaN).
public func referenceJSON<T: Encodable>(_ value: T, pretty: Bool = true) -> String? {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
}
