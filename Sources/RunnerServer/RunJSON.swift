import FoundationEssentials
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

    /// The run as shown: its secret params (those stored with it, and `secrets`) as `***`.
    public init(_ run: RunRecord, secrets: Set<String> = [], steps: [StepRecord]? = nil, attempts: [AttemptRecord]? = nil) {
        id = run.id.rawValue
        pipeline = run.pipeline
        status = run.status.rawValue
        trigger = run.trigger.rawValue
        let masked = run.maskedParams.union(secrets)
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
    /// Writes element `n` (see `PrettyJSONElement`).
    let write: (_ n: Int, _ out: inout [UInt8], _ indent: String, _ encode: ([String: String]) -> String) -> Void

    public init(count: Int, steps element: @escaping (Int) -> RunJSON.Step) {
        self.count = count
        write = { n, out, indent, encode in element(n).prettyJSON(into: &out, indent: indent, encode: encode) }
    }

    public init(count: Int, attempts element: @escaping (Int) -> RunJSON.Attempt) {
        self.count = count
        write = { n, out, indent, encode in element(n).prettyJSON(into: &out, indent: indent, encode: encode) }
    }
}

extension RunJSON {
    public func streamedJSON(pieceSize: Int = 64 << 10, _ write: (String) -> Void) {
        streamedJSON(steps: steps.map { s in LazyElements(count: s.count, steps: { s[$0] }) },
                     attempts: attempts.map { a in LazyElements(count: a.count, attempts: { a[$0] }) }, pieceSize: pieceSize, write)
    }

    /// The JSON in pieces of about `pieceSize` bytes (the steps and attempts are made one at a
    /// time as they are written: the whole text, or every element, is never held at once).
    public func streamedJSON(steps lazySteps: LazyElements?, attempts lazyAttempts: LazyElements?, pieceSize: Int = 64 << 10,
                             _ write: (String) -> Void) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        func text<T: Encodable>(_ value: T) -> String {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
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
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pieceSize + 4096)
        func flush(unlessBelow limit: Int) {
            guard bytes.count >= limit, !bytes.isEmpty else { return }
            write(String(decoding: bytes, as: UTF8.self))
            bytes.removeAll(keepingCapacity: true)
        }
        bytes.append(contentsOf: "{\n".utf8)
        for (n, entry) in entries.enumerated() {
            let last = n == entries.count - 1
            let elements = entry.key == "attempts" ? lazyAttempts : entry.key == "steps" ? lazySteps : nil
            if let elements, elements.count > 0 {
                bytes.append(contentsOf: "  \"\(entry.key)\" : [\n".utf8)
                for i in 0..<elements.count {
                    bytes.append(contentsOf: "    ".utf8)
                    elements.write(i, &bytes, "    ") { text($0) }
                    bytes.append(contentsOf: (i == elements.count - 1 ? "\n" : ",\n").utf8)
                    flush(unlessBelow: pieceSize)
                }
                bytes.append(contentsOf: ("  ]" + (last ? "\n" : ",\n")).utf8)
            } else {
                bytes.append(contentsOf: (entry.text + (last ? "\n" : ",\n")).utf8)
            }
        }
        bytes.append(contentsOf: "}\n".utf8)
        flush(unlessBelow: 0)
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

    /// Writes an object's fields as they are given: the caller gives them in key order (as
    /// `.sortedKeys` orders them) and leaves out a nil one.
    struct Object {
        /// `,` or nothing, then a newline, the indent and the key's opening quote: written
        /// before every key (made once per object, not per key).
        private let keyPrefix: [UInt8]
        private let indent: [UInt8]
        var count = 0

        init(into out: inout [UInt8], indent: String) {
            self.indent = Array(indent.utf8)
            keyPrefix = [UInt8(ascii: ",")] + [UInt8(ascii: "\n")] + self.indent + Array("  \"".utf8)
            out.append(UInt8(ascii: "{"))
        }

        private mutating func key(_ key: StaticString, into out: inout [UInt8]) {
            keyPrefix.withUnsafeBufferPointer { out.append(contentsOf: count == 0 ? UnsafeBufferPointer(rebasing: $0.dropFirst()) : $0) }
            count += 1
            out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
        }

        mutating func string(_ key: StaticString, _ value: String?, into out: inout [UInt8]) {
            guard let value else { return }
            self.key(key, into: &out)
            PrettyJSON.string(value, into: &out)
        }

        mutating func int<T: BinaryInteger>(_ key: StaticString, _ value: T?, into out: inout [UInt8]) {
            guard let value else { return }
            self.key(key, into: &out)
            PrettyJSON.integer(Int64(value), into: &out)
        }

        mutating func bool(_ key: StaticString, _ value: Bool?, into out: inout [UInt8]) {
            guard let value else { return }
            self.key(key, into: &out)
            out.append(contentsOf: (value ? "true" : "false").utf8)
        }

        mutating func raw(_ key: StaticString, _ text: String, into out: inout [UInt8]) {
            self.key(key, into: &out)
            out.append(contentsOf: text.utf8)
        }

        func end(into out: inout [UInt8]) {
            out.append(UInt8(ascii: "\n"))
            if count == 0 { out.append(UInt8(ascii: "\n")) }
            out.append(contentsOf: indent)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Decimal digits, as `String(value)` writes them.
    static func integer(_ value: Int64, into out: inout [UInt8]) {
        guard value != 0 else { return out.append(UInt8(ascii: "0")) }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(20 - count)...]))
        }
    }

    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most text needs no escape: copied at once.
        let plain = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == 0x5C }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain == true { return out.append(UInt8(ascii: "\"")) }
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

// Fields in the order `.sortedKeys` gives (byte order of the keys).
extension RunJSON.Step: PrettyJSONElement {
    func prettyJSON(into out: inout [UInt8], indent: String, encode: ([String: String]) -> String) {
        var o = PrettyJSON.Object(into: &out, indent: indent)
        o.int("attempts", attempts, into: &out)
        o.string("error_code", errorCode, into: &out)
        o.string("error_message", errorMessage, into: &out)
        o.string("finished_at", finishedAt, into: &out)
        o.string("item", item, into: &out)
        o.string("name", name, into: &out)
        o.raw("outputs", outputs.isEmpty ? "{\n\n" + indent + "  }" : PrettyJSON.nested(encode(outputs), indent: indent + "  "), into: &out)
        o.int("progress", progress, into: &out)
        o.string("progress_message", progressMessage, into: &out)
        o.bool("retryable", retryable, into: &out)
        o.string("section", section, into: &out)
        o.string("started_at", startedAt, into: &out)
        o.string("status", status, into: &out)
        o.string("step", step, into: &out)
        o.end(into: &out)
    }
}

extension RunJSON.Attempt: PrettyJSONElement {
    func prettyJSON(into out: inout [UInt8], indent: String, encode: ([String: String]) -> String) {
        var o = PrettyJSON.Object(into: &out, indent: indent)
        o.int("attempt", attempt, into: &out)
        o.bool("counted", counted, into: &out)
        o.string("error_code", errorCode, into: &out)
        o.int("exit_code", exitCode, into: &out)
        o.string("finished_at", finishedAt, into: &out)
        o.string("log", log, into: &out)
        o.string("message", message, into: &out)
        o.int("serial", serial, into: &out)
        o.int("signal", signal, into: &out)
        o.string("started_at", startedAt, into: &out)
        o.string("step", step, into: &out)
        o.bool("timed_out", timedOut, into: &out)
        o.end(into: &out)
    }
}
