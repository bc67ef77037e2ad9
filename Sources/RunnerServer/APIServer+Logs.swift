import FoundationEssentials
import RunnerCore
import RunnerEngine

extension APIServer {
    /// Bytes of a log sent at most; a longer log is sent from its end (`X-Log-Truncated`).
    static let maxLogBytes = 8 << 20

    /// A step's log: its last attempt, or `?attempt=N`.
    func stepLog(_ id: String, _ step: String, _ request: HTTPRequest) -> HTTPResponse {
        withRun(id) { stepLog(of: $0, step, request) }
    }

    private func stepLog(of stored: StoredRun, _ step: String, _ request: HTTPRequest) -> HTTPResponse {
        let id = stored.run.id.rawValue
        var attempts = stored.attempts.filter { $0.step.rawValue == step }
        if let text = request.query("attempt") {
            guard let n = Int(text) else {
                return Self.error(400, .invalidParam, "attempt takes a number, got '\(text)'")
            }
            attempts = attempts.filter { $0.serial == n }
        }
        guard let attempt = attempts.max(by: { $0.serial < $1.serial }) else {
            let known = stored.steps.contains { $0.name.rawValue == step }
            return Self.error(404, .stepNotFound,
                              known ? "step '\(step)' of run \(id) has no attempt yet" : "run \(id) has no step '\(step)'")
        }
        // The path is the one the executor recorded under the state directory, never the
        // request's.
        guard let path = attempt.logPath, let size = LogFiles.size(path) else {
            return HTTPResponse(status: 200, body: [], contentType: "text/plain; charset=utf-8")
        }
        let start = size > UInt64(Self.maxLogBytes) ? size - UInt64(Self.maxLogBytes) : 0
        let data = LogFiles.read(path, from: start, limit: Self.maxLogBytes) ?? []
        let header = start > 0 ? ("X-Log-Truncated", String(start)) : ("X-Attempt", String(attempt.serial))
        return HTTPResponse(status: 200, body: data, contentType: "text/plain; charset=utf-8", header: header)
    }
}
