import FoundationEssentials
import RunnerCore
import RunnerCrypto
import RunnerEngine
import RunnerJSON

/// `POST /api/v1/pipelines/{name}/runs` and the pipelines' alias routes: the HTTP request made
/// into the engine's `LaunchRequest`, and its `LaunchOutcome` into the answer.
extension APIServer {
    struct Accepted: Encodable {
        var runID: String
        var pipeline: String
        var status: String
        var acceptedAt: String
        var trigger: String
        var params: [String: Value]
        enum CodingKeys: String, CodingKey {
            case runID = "run_id", pipeline, status, acceptedAt = "accepted_at", trigger, params
        }
    }

    struct LaunchBody {
        var params: [String: Value] = [:]
        var trigger: Trigger = .api
        var triggerDetail: [String: String] = [:]
    }

    static let triggerDetailKeys: Set<String> = ["event", "ref", "old", "new", "pusher", "repository"]

    /// `{"params": {...}}` (or an empty body) — on an alias route the params object itself —:
    /// the params, or why the body is not that. A git hook launching through the server adds
    /// `"trigger": "hook"` and `"trigger_detail"` (event, ref, old, new, pusher, repository).
    static func launchBody(_ body: [UInt8], flat: Bool = false) -> Result<LaunchBody, Diagnostic> {
        switch launchParams(body, flat: flat) {
        case .failure(let d): return .failure(d)
        case .success(let params):
            var parsed = LaunchBody(params: params)
            guard !flat, let object = JSONValue.parse(body)?.object else { return .success(parsed) }
            if let trigger = object["trigger"] {
                guard let text = trigger.string, let value = Trigger(rawValue: text), value == .api || value == .hook
                else {
                    return .failure(Diagnostic(.invalidBody, "'trigger' takes \"api\" or \"hook\"",
                                               hint: DiagnosticCode.invalidBody.help))
                }
                parsed.trigger = value
            }
            if let detail = object["trigger_detail"] {
                guard let map = detail.object, map.count <= triggerDetailKeys.count,
                      map.allSatisfy({ triggerDetailKeys.contains($0.key) && ($0.value.string?.count ?? 999) <= 256 })
                else {
                    let keys = triggerDetailKeys.sorted().joined(separator: ", ")
                    return .failure(Diagnostic(.invalidBody,
                                               "'trigger_detail' takes strings (at most 256 characters) for \(keys)",
                                               hint: DiagnosticCode.invalidBody.help))
                }
                parsed.triggerDetail = map.compactMapValues { $0.string }
            }
            return .success(parsed)
        }
    }

    static func launchParams(_ body: [UInt8], flat: Bool = false) -> Result<[String: Value], Diagnostic> {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .success([:]) }
        struct Body: Decodable { var params: [String: Value]? }
        guard let object = JSONValue.parse(body)?.object else {
            return .failure(Diagnostic(.invalidBody, "the body is not a JSON object",
                                       hint: DiagnosticCode.invalidBody.help))
        }
        if flat {
            guard let params = try? JSONDecoder().decode([String: Value].self, from: Data(body)) else {
                let message = "the body must be an object of param values (strings, numbers, booleans, lists)"
                return .failure(Diagnostic(.invalidBody, message,
                                           hint: "e.g. {\"targetRef\": \"main\"}"))
            }
            _ = object
            return .success(params)
        }
        if let unknown = object.keys.sorted().first(where: { !["params", "trigger", "trigger_detail"].contains($0) }) {
            return .failure(Diagnostic(.invalidBody, "unknown body key '\(unknown)': the body takes 'params' "
                                       + "(and a hook's 'trigger', 'trigger_detail')",
                                       hint: DiagnosticCode.invalidBody.help))
        }
        do {
            return .success(try JSONDecoder().decode(Body.self, from: Data(body)).params ?? [:])
        } catch {
            return .failure(Diagnostic(.invalidBody,
                                       "'params' must be an object of param values (strings, numbers, booleans, lists)",
                                       hint: DiagnosticCode.invalidBody.help))
        }
    }

    /// How a launch route answers: the runner's own shapes, or a contract's.
    struct LaunchAnswers {
        /// The answer to an outcome; for an accepted launch also what its key replays.
        var outcome: @Sendable (LaunchOutcome, _ key: String?) -> HTTPResponse
        /// No Idempotency-Key where the pipeline requires one (its code, the message).
        var missingKey: (String, String) -> HTTPResponse
        /// A malformed Idempotency-Key (the message).
        var invalidKey: (String) -> HTTPResponse

        static func generic(pipeline name: String, isUnreadable: Bool) -> LaunchAnswers {
            LaunchAnswers(
                outcome: { outcome, key in
                    APIServer.response(to: outcome, pipeline: name, key: key, isUnreadable: isUnreadable)
                },
                missingKey: { code, message in
                    APIServer.error(400, .missingParam, message, contractCode: code,
                                    hint: "send Idempotency-Key: <a UUID>; resending the same request with it is safe")
                },
                invalidKey: { message in APIServer.error(400, .invalidIdempotencyKey, message) })
        }
    }

    /// Launches a run. With an `Idempotency-Key` (required where the pipeline says so), the key
    /// is checked first — before params and before the concurrency rule — and the first
    /// response is what every later request with that key and payload gets.
    func launch(_ name: String, _ request: HTTPRequest, flatBody: Bool) -> HTTPResponse {
        guard let loaded = pipeline(name) else { return Self.error(404, .pipelineNotFound, "no pipeline '\(name)'") }
        let made = launchRequest(loaded, request, flatBody: flatBody)
        return launch(made, request, answers: .generic(pipeline: name, isUnreadable: made.unreadable != nil))
    }

    /// Takes the request's Idempotency-Key, launches, starts an accepted run here, answers.
    func launch(_ launch: LaunchRequest, _ request: HTTPRequest, answers: LaunchAnswers) -> HTTPResponse {
        var launch = launch
        if let refusal = takeIdempotencyKey(request, into: &launch, answers: answers) { return refusal }
        let outcome: LaunchOutcome
        do {
            outcome = try service.launch(launch)
        } catch {
            return Self.failure(error)
        }
        if case .accepted(let run) = outcome { execute(run.id, pipeline: launch.pipeline.pipeline) }
        return answers.outcome(outcome, launch.idempotency?.key)
    }

    /// The request as the engine takes it: the body's params, trigger and detail (or why the
    /// body cannot be read), the token's name and the trace id for the audit log.
    func launchRequest(_ loaded: LoadedPipeline, _ request: HTTPRequest, flatBody: Bool) -> LaunchRequest {
        var launch = LaunchRequest(pipeline: loaded, params: .given([]), trigger: .api,
                                   parallelism: ProcessInfo.processInfo.activeProcessorCount)
        switch Self.launchBody(request.body, flat: flatBody) {
        case .failure(let problem):
            launch.unreadable = problem
        case .success(let body):
            launch.params = LaunchRequest.given(body.params)
            launch.trigger = body.trigger
            launch.triggerDetail = body.triggerDetail
        }
        launch.audit = auditContext(request)
        return launch
    }

    /// Sets the launch's Idempotency-Key from the request's header; the answer refusing the
    /// request when the pipeline requires a key and none is sent, or the key is malformed.
    /// Its scope is the caller and the route; `idempotency.scope: payload` adds the body's
    /// hash, so the same key with another body is another request (seed 002), not a 422.
    func takeIdempotencyKey(_ request: HTTPRequest, into launch: inout LaunchRequest,
                            answers: LaunchAnswers) -> HTTPResponse? {
        let name = launch.pipeline.name
        let policy = launch.pipeline.pipeline.pipeline.idempotency
        guard let key = request.header("Idempotency-Key") else {
            guard policy?.isRequired == true else { return nil }
            let code = policy?.errorCode?.value ?? IdempotencyPolicy.defaultErrorCode
            service.auditRefusal(launch, code: code)
            return answers.missingKey(code, "pipeline '\(name)' requires an Idempotency-Key header")
        }
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            service.auditRefusal(launch, code: DiagnosticCode.invalidIdempotencyKey.rawValue)
            return answers.invalidKey("the Idempotency-Key header must be 1 to 255 printable ASCII characters")
        }
        let ttl = Double((policy?.ttl?.value ?? IdempotencyPolicy.defaultTTL).components.seconds)
        let hash = Crypto.sha256Hex(request.body)
        var scope = "\(request.actor ?? "anonymous") \(request.method) \(request.path)"
        if policy?.scope == .payload { scope += " \(hash)" }
        let answer = answers.outcome
        launch.idempotency = IdempotencyRequest(scope: scope, key: key, payloadHash: hash, ttl: ttl) { outcome in
            let first = answer(outcome, key)
            return (first.status, first.body)
        }
        return nil
    }

    /// The answer to a launch. Made from the outcome alone, so the first response an
    /// Idempotency-Key keeps is the one its request got, byte for byte.
    static func response(to outcome: LaunchOutcome, pipeline name: String, key: String?,
                         isUnreadable: Bool) -> HTTPResponse {
        switch outcome {
        case .accepted(let run):
            return accepted(run, status: .queued)
        case .skipped(let run, let active):
            return accepted(run, status: .skipped).with(header: ("X-Runner-Active-Run", active.id.rawValue))
        case .rejected(let active, let code):
            let message = "pipeline '\(name)' already has an active run \(active.id) (\(active.status.rawValue))"
            return error(409, .runBusy, message, contractCode: code, run: active)
        case .invalid(let problems):
            guard let first = problems.first else { return error(400, .invalidParam, "invalid launch of '\(name)'") }
            // A body that is not one: its problem alone, as it has no param diagnostics.
            if isUnreadable { return error(400, first.code, first.message, hint: first.hint) }
            return error(400, first.code, first.message, contractCode: first.contractCode, hint: first.hint,
                         diagnostics: problems)
        case .replayed(let status, let body):
            return HTTPResponse(status: status, body: body, header: ("Idempotent-Replayed", "true"))
        case .keyMismatch:
            return error(422, .idempotencyKeyReused, "Idempotency-Key '\(key ?? "")' was used with another payload")
        case .keyInFlight:
            return error(409, .idempotencyKeyInFlight,
                         "the first request with Idempotency-Key '\(key ?? "")' is still being processed")
        }
    }

    /// A launched run: 202 while queued, 200 when it was recorded as skipped.
    static func accepted(_ run: RunRecord, status: RunStatus) -> HTTPResponse {
        let body = Accepted(runID: run.id.rawValue, pipeline: run.pipeline, status: status.rawValue,
                            acceptedAt: Timestamp.format(run.createdAt), trigger: run.trigger.rawValue,
                            params: run.shownParams)
        return json(status == .skipped ? 200 : 202, body)
    }

    /// Who asks, for the audit log: the token's name, and the request's trace id.
    func auditContext(_ request: HTTPRequest) -> AuditContext {
        AuditContext(actor: request.actor ?? "anonymous",
                     traceID: AccessTokens.traceID(traceparent: request.header("traceparent"),
                                                   requestID: request.header("X-Request-Id")))
    }

    /// An engine operation that failed: a store failure says what it was doing (503 when it
    /// may pass), anything else is a 500.
    static func failure(_ error: any Error, run id: String = "") -> HTTPResponse {
        failureAnswer(error, run: id).response
    }

    static func failureAnswer(_ error: any Error, run id: String = "") -> ErrorAnswer {
        guard let failure = error as? OperationFailure else {
            return ErrorAnswer(status: 500, code: .stateUnavailable, message: "\(error)")
        }
        let doing = switch failure.stage {
        case .readingRun: "cannot read run '\(id)'"
        case .recordingKey: "cannot record the Idempotency-Key"
        case .recordingRun: "cannot record the run"
        case .recordingCancel: "cannot record the cancel"
        }
        return storeFailureAnswer(failure.error, doing)
    }
}
