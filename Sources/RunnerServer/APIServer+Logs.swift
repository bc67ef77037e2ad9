import FoundationEssentials
import RunnerCore
import RunnerEngine

extension APIServer {
    /// Bytes of a log sent at most; a longer log is sent from its end (`X-Log-Truncated`).
    static let maxLogBytes = 8 << 20

    /// A step's log: its last attempt, or `?attempt=N`.
    func stepLog(_ id: String, _ step: String, _ request: HTTPRequest) -> HTTPResponse {
        let found: StoredRun?
        do {
            found = try service.store.load(RunID(id), definition: false)
        } catch {
            return Self.storeFailure(error, "cannot read run '\(id)'")
        }
        guard let stored = found else {
            return Self.error(404, .runNotFound, "no run '\(id)'", contractCode: APITrigger.defaultNotFoundErrorCode)
        }
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

    /// A new run of the same pipeline, params and commits from a step on (default: the first
    /// main step that did not succeed); earlier successes are reused.
    func retry(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        let found: StoredRun?
        do { found = try service.store.load(RunID(id)) } catch { return Self.storeFailure(error, "cannot read run '\(id)'") }
        guard let stored = found else {
            return Self.error(404, .runNotFound, "no run '\(id)'", contractCode: APITrigger.defaultNotFoundErrorCode)
        }
        guard stored.run.status.isTerminal else {
            return Self.error(409, .runBusy, "run \(id) has not finished (\(stored.run.status.rawValue)); cancel it first", run: stored.run)
        }
        var from = request.query("from")
        if from == nil, !request.body.isEmpty {
            guard let body = try? JSONDecoder().decode([String: String].self, from: Data(request.body)), Set(body.keys).isSubset(of: ["from"]) else {
                return Self.error(400, .invalidBody, "the body takes {\"from\": \"STEP\"} only")
            }
            from = body["from"]
        }
        let step = from ?? stored.steps.first { $0.section == "main" && $0.status != .succeeded }?.step
        guard let step else {
            return Self.error(409, .runFinished, "run \(id) has no failed step to retry from; give one with {\"from\": \"STEP\"}", run: stored.run)
        }
        let newID: RunID
        do {
            newID = try service.retry(stored.run.id, from: step, trigger: .api)
        } catch let error as RunService.RetryError {
            if let conflict = error.conflict {
                return Self.error(409, .runBusy, error.description, contractCode: conflict.errorCode, run: conflict.active)
            }
            return Self.error(400, .stepNotFound, error.description)
        } catch {
            return Self.error(500, .stateUnavailable, "\(error)")
        }
        audit("retry", newID, pipeline: stored.run.pipeline, params: [:], request)
        execute(newID)
        struct Retried: Encodable {
            var runID: String
            var retryOf: String
            var from: String
            var status: String
            enum CodingKeys: String, CodingKey { case runID = "run_id", retryOf = "retry_of", from, status }
        }
        return Self.json(202, Retried(runID: newID.rawValue, retryOf: id, from: step, status: RunStatus.queued.rawValue))
    }
}
