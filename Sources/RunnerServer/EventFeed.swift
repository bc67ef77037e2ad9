import FoundationEssentials
import RunnerCore

/// What one event stream (`GET /api/v1/runs/{id}/events`) has sent of a run, and what it sends
/// next: the run's transitions after the last one sent, then the new whole lines of its
/// attempts' logs. Each poll makes at most about `bytesPerPoll` of text and reads a log
/// `bytesPerRead` at a time, so neither a 200 MB log nor a run of thousands of transitions is
/// ever read or held whole; the stream asks again as soon as the client has taken it.
struct EventFeed {
    /// Where the feed reads the run (the store; a fake in tests).
    protocol Source {
        func load(_ run: RunID, definition: Bool) throws -> StoredRun?
        func events(of run: RunID, after id: Int64) throws -> [RunEvent]
    }

    struct Limits {
        /// Text one poll makes, about: it stops adding once past it.
        var bytesPerPoll = 256 << 10
        /// One read of a log; a line longer than this is sent in pieces of this size.
        var bytesPerRead = 64 << 10
        /// Store reads that may fail in a row (retried with backoff, ~30 s in all) before the
        /// stream ends with an `error` event; the client can resume with Last-Event-ID.
        var storeFailures = 10
    }

    enum Poll: Equatable {
        /// Text to send; `more`: there is more to read at once.
        case send(String, more: Bool)
        /// Nothing new.
        case idle
        /// The store could not be read: ask again after this many seconds.
        case retry(after: Double)
        /// The last text of the stream (`end`, or `error`).
        case end(String)
    }

    let run: RunID
    let limits: Limits
    private(set) var lastEvent: Int64
    private(set) var failures = 0
    /// Log path → bytes of it sent.
    private var offsets: [String: UInt64] = [:]
    /// Logs of finished attempts read to their end.
    private var finished: Set<String> = []
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    init(run: RunID, after: Int64, limits: Limits = Limits()) {
        self.run = run
        self.lastEvent = after
        self.limits = limits
    }

    mutating func poll(_ source: some Source) -> Poll {
        let current: StoredRun?
        let events: [RunEvent]
        do {
            current = try source.load(run, definition: false)
            events = current == nil ? [] : try source.events(of: run, after: lastEvent)
        } catch {
            // A busy or failing store is transient: this poll is skipped, nothing is lost
            // (transitions are read after the last one sent, logs from their offsets).
            failures += 1
            guard failures > limits.storeFailures else { return .retry(after: Self.backoff(failures)) }
            let message = "the state of run \(run) could not be read \(failures) times in a row: \(error)"
            return .end(sse(nil, "error", ErrorData(code: DiagnosticCode.stateUnavailable.rawValue, message: message,
                                                    hint: "Follow the run again with Last-Event-ID: \(lastEvent).")))
        }
        failures = 0
        guard let current else {
            return .end(sse(nil, "error", ErrorData(code: DiagnosticCode.runNotFound.rawValue,
                                                    message: "run \(run) no longer exists",
                                                    hint: DiagnosticCode.runNotFound.help)))
        }
        var text = ""
        var more = appendTransitions(events, to: &text)
        more = appendLogs(of: current, to: &text) || more
        if text.isEmpty {
            guard current.run.status.isTerminal else { return .idle }
            return .end(sse(nil, "end", ["status": current.run.status.rawValue]))
        }
        return .send(text, more: more)
    }

    /// 0.2 s, doubling, at most 5 s.
    static func backoff(_ failures: Int) -> Double {
        min(5, 0.2 * Double(1 << min(failures - 1, 5)))
    }

    /// True when the budget stopped it before the last transition.
    private mutating func appendTransitions(_ events: [RunEvent], to text: inout String) -> Bool {
        for event in events {
            guard text.utf8.count < limits.bytesPerPoll else { return true }
            lastEvent = event.id
            text += sse(String(event.id), event.kind, EventJSON(event))
        }
        return false
    }

    /// True when a log has more to read than this poll took.
    private mutating func appendLogs(of stored: StoredRun, to text: inout String) -> Bool {
        for attempt in stored.attempts {
            guard let path = attempt.logPath, !finished.contains(path) else { continue }
            while true {
                guard text.utf8.count < limits.bytesPerPoll else { return true }
                let offset = offsets[path] ?? 0
                guard let data = LogFiles.read(path, from: offset, limit: limits.bytesPerRead), !data.isEmpty else {
                    // A quiet step has no log file; a finished one has all it will ever have.
                    if !attempt.isInFlight { finished.insert(path) }
                    break
                }
                let isFull = data.count == limits.bytesPerRead
                guard let end = Self.sendable(data, isFull: isFull, isFinished: !attempt.isInFlight) else { break }
                offsets[path] = offset + UInt64(end)
                for line in Self.lines(data[..<end]) {
                    text += sse(nil, "log", LogLine(step: attempt.step.rawValue, attempt: attempt.serial, line: line))
                }
                if !isFull { break }
            }
        }
        return false
    }

    /// How much of `data` goes out now: up to its last newline; all of it for the log of a
    /// finished attempt (its last line has no newline); for a read full without a newline (a
    /// line longer than a read) all but an incomplete UTF-8 character at its end. Nil: nothing
    /// yet (a partial last line waits for its end).
    static func sendable(_ data: [UInt8], isFull: Bool, isFinished: Bool) -> Int? {
        if let newline = data.lastIndex(of: UInt8(ascii: "\n")) { return newline + 1 }
        if isFinished { return data.count }
        guard isFull, !data.isEmpty else { return nil }
        // Back over continuation bytes to the lead byte of the last character; keep that
        // character only when it is whole.
        var lead = data.count - 1
        while lead > 0 && lead > data.count - 4 && data[lead] & 0xC0 == 0x80 { lead -= 1 }
        let byte = data[lead]
        let width = byte < 0xC0 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
        let end = lead + width > data.count ? lead : data.count
        return end > 0 ? end : nil
    }

    /// The lines of a chunk; a last line without its newline (a piece, or a finished log's
    /// end) is a line too.
    static func lines(_ chunk: ArraySlice<UInt8>) -> [String] {
        var lines = String(decoding: chunk, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        if chunk.last == UInt8(ascii: "\n") { lines.removeLast() }
        return lines
    }

    func sse<T: Encodable>(_ id: String?, _ event: String, _ data: T) -> String {
        let json = (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return (id.map { "id: \($0)\n" } ?? "") + "event: \(event)\ndata: \(json)\n\n"
    }

    struct EventJSON: Encodable {
        var id: Int64
        var at: String
        var kind: String
        var step: String?
        var status: String?
        var message: String?
        init(_ e: RunEvent) {
            id = e.id
            at = Timestamp.format(e.at)
            kind = e.kind
            step = e.step
            status = e.status
            message = e.message
        }
    }

    struct LogLine: Encodable {
        var step: String
        var attempt: Int
        var line: String
    }

    struct ErrorData: Encodable {
        var code: String
        var message: String
        var hint: String
    }
}

extension EventFeed {
    /// The run store as a feed reads it.
    struct StoreSource: Source {
        let store: any RunRecordStore

        func load(_ run: RunID, definition: Bool) throws -> StoredRun? { try store.load(run, definition: definition) }
        func events(of run: RunID, after id: Int64) throws -> [RunEvent] { try store.events(of: run, after: id) }
    }
}
