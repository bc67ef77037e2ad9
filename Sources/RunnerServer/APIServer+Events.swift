import FoundationEssentials
import RunnerCore
import RunnerEngine

extension APIServer {
    /// Bytes an event stream may hold that its client has not read yet; a write past it ends
    /// the stream. The writer never comes near it: it makes nothing while `streamBehind` bytes
    /// wait, and a poll makes about `EventFeed.Limits.bytesPerPoll`.
    static let streamLimit = 2 << 20
    /// Waiting bytes at which the writer stops until the client reads (it reads neither the
    /// store nor the logs meanwhile). A client that reads nothing is dropped by the server's
    /// idle timeout: nothing is sent to it for that long.
    static let streamBehind = 256 << 10

    /// `GET /api/v1/runs/{id}/events`: Server-Sent Events of the run's transitions (each with
    /// its event number as `id`, so `Last-Event-ID` or `?after=N` resumes) and the new lines of
    /// its steps' logs (`event: log`), until the run finishes (`event: end`). A comment line
    /// every 15 s keeps proxies from closing the stream and notices clients that left.
    func events(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        let found: StoredRun?
        do { found = try service.store.load(RunID(id)) } catch { return Self.storeFailure(error, "cannot read run '\(id)'") }
        guard let stored = found else {
            return Self.error(404, .runNotFound, "no run '\(id)'", contractCode: APITrigger.defaultNotFoundErrorCode)
        }
        let after = max(0, Int64(request.header("Last-Event-ID") ?? request.query("after") ?? "0") ?? 0)
        guard let stream = request.openStream(limit: Self.streamLimit) else { return Self.error(500, .stateUnavailable, "cannot stream") }
        let store = EventFeed.StoreSource(store: service.store)
        let feed = EventFeed(run: stored.run.id, after: after)
        do {
            try Threads.start { Self.follow(feed, from: store, to: stream) }
        } catch {
            stream.close()
            return Self.error(503, .stateUnavailable, "cannot stream: \(error)")
        }
        var response = HTTPResponse(status: 200, body: [], contentType: "text/event-stream; charset=utf-8", header: ("Cache-Control", "no-cache"))
        response.stream = stream
        return response
    }

    /// The stream's writer: polls the feed while the client keeps up, until the run ends or
    /// the client leaves.
    static func follow(_ feed: EventFeed, from source: some EventFeed.Source, to stream: HTTPStream) {
        defer { stream.close() }
        var feed = feed
        var lastWrite = ContinuousClock.now
        while true {
            guard let pending = stream.pending else { return } // the client left
            guard pending < streamBehind else {
                Threads.sleep(seconds: 0.2)
                continue
            }
            var wait = 0.2
            switch feed.poll(source) {
            case .send(let text, let more):
                guard stream.write(text) else { return }
                lastWrite = .now
                if more { wait = 0 }
            case .idle:
                break
            case .retry(let after):
                wait = after
            case .end(let text):
                stream.write(text)
                return
            }
            if wait > 0 {
                if ContinuousClock.now - lastWrite >= .seconds(15) {
                    guard stream.write(": keep-alive\n\n") else { return }
                    lastWrite = .now
                }
                Threads.sleep(seconds: wait)
            }
        }
    }
}
