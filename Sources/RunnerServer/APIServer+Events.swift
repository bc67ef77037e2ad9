import FoundationEssentials
import RunnerCore
import RunnerEngine

extension APIServer {
    /// Bytes an event stream may hold that its client has not read yet; a write past it ends
    /// the stream. The hub never comes near it: it makes nothing for a stream while
    /// `EventHub.Limits.behind` bytes wait, and one poll makes about
    /// `EventFeed.Limits.bytesPerPoll`.
    static let streamLimit = 2 << 20
    /// Seconds a client refused for the cap on streams is told to wait.
    static let streamRetryAfter = "5"

    /// `GET /api/v1/runs/{id}/events`: Server-Sent Events of the run's transitions (each with
    /// its event number as `id`, so `Last-Event-ID` or `?after=N` resumes) and the new lines of
    /// its steps' logs (`event: log`), until the run finishes (`event: end`). A comment line
    /// every 15 s keeps proxies from closing the stream and notices clients that left. Written
    /// by the server's `EventHub`; past its cap on streams, 503 with a `Retry-After`.
    func events(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        withRun(id) { events(of: $0, request) }
    }

    private func events(of stored: StoredRun, _ request: HTTPRequest) -> HTTPResponse {
        let after = max(0, Int64(request.header("Last-Event-ID") ?? request.query("after") ?? "0") ?? 0)
        var stream: HTTPStream?
        do {
            try eventHub.subscribe(stored.run.id, after: after, store: service.store) {
                stream = request.openStream(limit: Self.streamLimit)
                return stream
            }
        } catch {
            return Self.refusal(error)
        }
        var response = HTTPResponse(status: 200, body: [], contentType: "text/event-stream; charset=utf-8",
                                    header: ("Cache-Control", "no-cache"))
        response.stream = stream
        return response
    }

    /// A stream the hub would not take: 503 past its cap (with a `Retry-After`).
    static func refusal(_ refusal: EventHub.Refusal) -> HTTPResponse {
        switch refusal {
        case .full(let limit):
            Self.error(503, .tooManyEventStreams, "the server has \(limit) event streams open, as many as it serves")
                .with(header: ("Retry-After", Self.streamRetryAfter))
        case .noThread:
            Self.error(503, .tooManyEventStreams, "the server cannot start the thread that writes event streams")
                .with(header: ("Retry-After", Self.streamRetryAfter))
        case .cannotOpen:
            Self.error(500, .stateUnavailable, "cannot stream")
        }
    }
}
