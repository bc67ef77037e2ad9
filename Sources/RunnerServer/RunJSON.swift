import Foundation
import RunnerCore

/// A run as JSON: `apply --json`, `runs show --json` and (later) the API share this shape.
public struct RunJSON: Encodable {
    public struct Step: Encodable {
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

        enum CodingKeys: String, CodingKey {
            case name, step, item, section, status, attempts, errorCode = "error_code", errorMessage = "error_message", progress
            case progressMessage = "progress_message", startedAt = "started_at", finishedAt = "finished_at", outputs, retryable
        }
    }

    public struct Attempt: Encodable {
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

        enum CodingKeys: String, CodingKey {
            case step, serial, attempt, counted, startedAt = "started_at", finishedAt = "finished_at", exitCode = "exit_code", signal
            case timedOut = "timed_out", errorCode = "error_code", message, log
        }
    }

    public struct Ref: Encodable {
        public var ref: String
        public var sha: String
        public var repository: String
    }

    public var id: String
    public var pipeline: String
    public var status: String
    public var trigger: String
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

    enum CodingKeys: String, CodingKey {
        case id, pipeline, status, trigger, triggerDetail = "trigger_detail", params, refs, createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
        case wakeAt = "wake_at", errorCode = "error_code", errorMessage = "error_message", retryable, steps, attempts
    }

    public static func time(_ date: Date?) -> String? {
        date.map(Timestamp.format)
    }

    public init(_ run: RunRecord, secrets: Set<String> = [], steps: [StepRecord]? = nil, attempts: [AttemptRecord]? = nil) {
        id = run.id.rawValue
        pipeline = run.pipeline
        status = run.status.rawValue
        trigger = run.trigger.rawValue
        params = run.params.reduce(into: [:]) { $0[$1.key] = secrets.contains($1.key) ? .string("***") : $1.value }
        triggerDetail = run.triggerDetail.isEmpty ? nil : run.triggerDetail
        refs = run.refs.isEmpty ? nil : run.refs.reduce(into: [:]) { out, entry in
            out[entry.key] = Ref(ref: run.params[entry.key]?.environmentText ?? "", sha: entry.value.sha, repository: entry.value.repository)
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

    public init(_ stored: StoredRun, secrets: Set<String>) {
        self.init(stored.run, secrets: secrets, steps: stored.steps, attempts: stored.attempts)
    }

    public static func step(_ s: StepRecord) -> Step {
        Step(name: s.name.rawValue, step: s.step, item: s.item, section: s.section, status: s.status.rawValue,
             attempts: s.attempts, errorCode: s.errorCode, errorMessage: s.errorMessage, progress: s.progress,
             progressMessage: s.progressMessage, startedAt: time(s.startedAt), finishedAt: time(s.finishedAt), outputs: s.outputs)
    }

    public static func attempt(_ a: AttemptRecord) -> Attempt {
        Attempt(step: a.step.rawValue, serial: a.serial, attempt: a.attempt, counted: a.counted,
                startedAt: time(a.startedAt) ?? "", finishedAt: time(a.finishedAt), exitCode: a.exitCode,
                signal: a.signal, timedOut: a.timedOut, errorCode: a.errorCode, message: a.message, log: a.logPath)
    }
}

/// Array elements made one at a time while they are written: a 10,000-step run is never
/// held twice (records and their JSON shapes) at the process's memory peak.
public struct LazyElements {
    public var count: Int
    public var element: (Int) -> any Encodable

    public init(count: Int, element: @escaping (Int) -> any Encodable) {
        self.count = count
        self.element = element
    }
}

extension RunJSON {
    public func streamedJSON(_ write: (String) -> Void) {
        streamedJSON(steps: steps.map { s in LazyElements(count: s.count) { s[$0] } },
                     attempts: attempts.map { a in LazyElements(count: a.count) { a[$0] } }, write)
    }

    public func streamedJSON(steps lazySteps: LazyElements?, attempts lazyAttempts: LazyElements?, _ write: (String) -> Void) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        func text<T: Encodable>(_ value: T) -> String {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        }
        // Every line but the first and the empty ones gets the prefix; done on bytes (splitting
        // and joining Strings was a third of the time of `apply --json` on 1,000 steps).
        func indented(_ text: String, by prefix: String) -> String {
            let newline = UInt8(ascii: "\n")
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count + text.utf8.count / 4)
            var atLineStart = false
            for byte in text.utf8 {
                if atLineStart && byte != newline { bytes.append(contentsOf: prefix.utf8) }
                atLineStart = byte == newline
                bytes.append(byte)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        // The run's own fields, as top-level entries `  "key" : value` (values may span lines).
        var header = self
        header.steps = nil
        header.attempts = nil
        var entries: [(key: String, text: String)] = []
        for line in text(header).split(separator: "\n", omittingEmptySubsequences: false).dropFirst().dropLast() {
            if line.hasPrefix("  \""), let end = line.dropFirst(3).firstIndex(of: "\"") {
                entries.append((String(line[line.index(line.startIndex, offsetBy: 3)..<end]), String(line)))
            } else if !entries.isEmpty {
                entries[entries.count - 1].text += "\n" + line
            }
        }
        entries = entries.map { ($0.key, $0.text.hasSuffix(",") ? String($0.text.dropLast()) : $0.text) }
        func array(_ key: String, _ elements: LazyElements?) {
            guard let elements else { return }
            entries.append((key, "  \"\(key)\" : " + (elements.count == 0 ? "[\n\n  ]" : "[...]")))
        }
        array("attempts", lazyAttempts)
        array("steps", lazySteps)
        entries.sort { $0.key < $1.key }
        write("{\n")
        for (n, entry) in entries.enumerated() {
            let last = n == entries.count - 1
            let elements = entry.key == "attempts" ? lazyAttempts : entry.key == "steps" ? lazySteps : nil
            if let elements, elements.count > 0 {
                write("  \"\(entry.key)\" : [\n")
                for i in 0..<elements.count {
                    let element = elements.element(i)
                    let body: String
                    if let direct = element as? PrettyJSONElement {
                        var bytes: [UInt8] = []
                        direct.prettyJSON(into: &bytes, indent: "    ") { text($0) }
                        body = String(decoding: bytes, as: UTF8.self)
                    } else {
                        body = indented(text(element), by: "    ")
                    }
                    write("    " + body + (i == elements.count - 1 ? "\n" : ",\n"))
                }
                write("  ]" + (last ? "\n" : ",\n"))
            } else {
                write(entry.text + (last ? "\n" : ",\n"))
            }
        }
        write("}\n")
    }
}

/// A step or an attempt written as pretty JSON directly, byte for byte what JSONEncoder writes
/// with `.prettyPrinted, .sortedKeys, .withoutEscapingSlashes` (RunJSONTests compares the two):
/// at 1,000 steps JSONEncoder took about 60 ms of `apply --json`, most of its time after the run.
protocol PrettyJSONElement {
    /// The object, its first line not indented, every other line after `indent`; `encode`
    /// writes a nested value the direct writer leaves to JSONEncoder.
    func prettyJSON(into out: inout [UInt8], indent: String, encode: ([String: String]) -> String)
}

enum PrettyJSON {
    enum Field {
        case string(String)
        case int(Int)
        case bool(Bool)
        case raw(String)
    }

    static func object(_ fields: [(key: String, value: Field?)], into out: inout [UInt8], indent: String) {
        let present = fields.compactMap { field in field.value.map { (key: field.key, value: $0) } }.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        out.append(UInt8(ascii: "{"))
        for (n, field) in present.enumerated() {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: indent.utf8)
            out.append(contentsOf: "  ".utf8)
            string(field.key, into: &out)
            out.append(contentsOf: " : ".utf8)
            switch field.value {
            case .string(let text): string(text, into: &out)
            case .int(let value): out.append(contentsOf: String(value).utf8)
            case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
            case .raw(let text): out.append(contentsOf: text.utf8)
            }
            if n < present.count - 1 { out.append(UInt8(ascii: ",")) }
        }
        out.append(UInt8(ascii: "\n"))
        if present.isEmpty { out.append(UInt8(ascii: "\n")) }
        out.append(contentsOf: indent.utf8)
        out.append(UInt8(ascii: "}"))
    }

    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A JSONEncoder text nested at `indent` (its lines after the first indented).
    static func nested(_ text: String, indent: String) -> String {
        var bytes: [UInt8] = []
        var atLineStart = false
        for byte in text.utf8 {
            if atLineStart && byte != UInt8(ascii: "\n") { bytes.append(contentsOf: indent.utf8) }
            atLineStart = byte == UInt8(ascii: "\n")
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension RunJSON.Step: PrettyJSONElement {
    func prettyJSON(into out: inout [UInt8], indent: String, encode: ([String: String]) -> String) {
        let outputsText = outputs.isEmpty ? "{\n\n" + indent + "  }" : PrettyJSON.nested(encode(outputs), indent: indent + "  ")
        PrettyJSON.object([
            ("name", .string(name)), ("step", .string(step)), ("item", item.map { .string($0) }), ("section", .string(section)),
            ("status", .string(status)), ("attempts", .int(attempts)), ("error_code", errorCode.map { .string($0) }),
            ("error_message", errorMessage.map { .string($0) }), ("progress", progress.map { .int($0) }),
            ("progress_message", progressMessage.map { .string($0) }), ("started_at", startedAt.map { .string($0) }),
            ("finished_at", finishedAt.map { .string($0) }), ("outputs", .raw(outputsText)), ("retryable", retryable.map { .bool($0) }),
        ], into: &out, indent: indent)
    }
}

extension RunJSON.Attempt: PrettyJSONElement {
    func prettyJSON(into out: inout [UInt8], indent: String, encode: ([String: String]) -> String) {
        PrettyJSON.object([
            ("step", .string(step)), ("serial", .int(serial)), ("attempt", .int(attempt)), ("counted", .bool(counted)),
            ("started_at", .string(startedAt)), ("finished_at", finishedAt.map { .string($0) }), ("exit_code", exitCode.map { .int(Int($0)) }),
            ("signal", signal.map { .int(Int($0)) }), ("timed_out", .bool(timedOut)), ("error_code", errorCode.map { .string($0) }),
            ("message", message.map { .string($0) }), ("log", log.map { .string($0) }),
        ], into: &out, indent: indent)
    }
}
