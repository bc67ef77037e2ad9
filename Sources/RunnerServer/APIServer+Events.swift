import FoundationEssentials
import RunnerCore
import RunnerEngine

extension APIServer {
    /// Bytes an event stream may hold that its client has not read yet.
    static let streamLimit = Int.max

    /// `GET /api/v1/runs/{id}/events`: Server-Sent Events of the run's transitions (each with
    /// its event number as `id`, so `Last-Event-ID` or `?after=N` resumes) and the new lines of
    /// its steps' logs (`event: log`), until the run finishes (`event: end`). A comment line
    /// every 15 s keeps proxies from closing the stream and notices clients that left.
    func events(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        guard let stored = try? service.store.load(RunID(id)) else {
            return Self.error(404, .runNotFound, "no run '\(id)'", contractCode: APITrigger.defaultNotFoundErrorCode)
        }
        let after = max(0, Int64(request.header("Last-Event-ID") ?? request.query("after") ?? "0") ?? 0)
        guard let stream = request.openStream(limit: Self.streamLimit) else { return Self.error(500, .stateUnavailable, "cannot stream") }
        let store = service.store
        let run = stored.run.id
        Threads.start {
            defer { stream.close() }
            var last = after
            var offsets: [String: UInt64] = [:]   // log path → bytes sent
            var lastWrite = Date()
            while true {
                guard let current = try? store.load(run) else { return }
                var text = ""
                for event in (try? store.events(of: run, after: last)) ?? [] {
                    last = event.id
                    text += Self.sse(id: String(event.id), event: event.kind, data: EventJSON(event))
                }
                for attempt in current.attempts {
                    let offset = attempt.logPath.map { offsets[$0] ?? 0 } ?? 0
                    guard let path = attempt.logPath, let data = LogFiles.read(path, from: offset) else { continue }
                    // Whole lines only; a partial last line waits for its end.
                    guard let end = data.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                    let chunk = data[data.startIndex...end]
                    offsets[path] = offset + UInt64(chunk.count)
                    for line in String(decoding: chunk, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                        text += Self.sse(id: nil, event: "log", data: LogLine(step: attempt.step.rawValue, attempt: attempt.serial, line: String(line)))
                    }
                }
                if current.run.status.isTerminal && text.isEmpty {
                    stream.write(Self.sse(id: nil, event: "end", data: ["status": current.run.status.rawValue]))
                    return
                }
                if text.isEmpty && Date().timeIntervalSince(lastWrite) >= 15 { text = ": keep-alive\n\n" }
                if !text.isEmpty {
                    guard stream.write(text) else { return }
                    lastWrite = Date()
                }
                Threads.sleep(seconds: 0.2)
            }
        }
        var response = HTTPResponse(status: 200, body: [], contentType: "text/event-stream; charset=utf-8", header: ("Cache-Control", "no-cache"))
        response.stream = stream
        return response
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

    static func sse<T: Encodable>(id: String?, event: String, data: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return (id.map { "id: \($0)\n" } ?? "") + "event: \(event)\ndata: \(json)\n\n"
    }
}
