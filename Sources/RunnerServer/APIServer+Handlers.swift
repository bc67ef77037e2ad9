#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerCrypto
import RunnerJSON
import RunnerYAML

extension APIServer {
    // MARK: - Pipelines

    struct ParamJSON: Encodable {
        var name: String
        var type: String
        var required: Bool
        var secret: Bool
        var defaultValue: Value?
        var errorCode: String?
        var description: String?
        enum CodingKeys: String, CodingKey {
            case name, type, required, secret, defaultValue = "default", errorCode = "error_code", description
        }
    }

    struct PipelineJSON: Encodable {
        var name: String
        var description: String?
        var file: String
        var params: [ParamJSON]?
        var apiPath: String?
        enum CodingKeys: String, CodingKey { case name, description, file, params, apiPath = "api_path" }
    }

    static func describe(_ loaded: LoadedPipeline, params: Bool) -> PipelineJSON {
        let p = loaded.pipeline.pipeline
        return PipelineJSON(
            name: loaded.name, description: p.description, file: loaded.file,
            params: params ? p.params.map {
                ParamJSON(name: $0.name.value, type: $0.kind.displayName, required: $0.isRequired, secret: $0.isSecret,
                          defaultValue: $0.isSecret ? nil : $0.defaultValue?.value, errorCode: $0.errorCode?.value, description: $0.description)
            } : nil,
            apiPath: p.triggers.api?.path.value)
    }

    func listPipelines() -> HTTPResponse {
        struct List: Encodable { var pipelines: [PipelineJSON] }
        return Self.json(200, List(pipelines: pipelineNames.compactMap { pipeline($0) }.map { Self.describe($0, params: false) }))
    }

    func showPipeline(_ name: String) -> HTTPResponse {
        guard let loaded = pipeline(name) else { return Self.error(404, .pipelineNotFound, "no pipeline '\(name)'") }
        return Self.json(200, Self.describe(loaded, params: true))
    }

    // MARK: - Launch

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
                guard let text = trigger.string, let value = Trigger(rawValue: text), value == .api || value == .hook else {
                    return .failure(Diagnostic(.invalidBody, "'trigger' takes \"api\" or \"hook\"", hint: DiagnosticCode.invalidBody.help))
                }
                parsed.trigger = value
            }
            if let detail = object["trigger_detail"] {
                guard let map = detail.object, map.count <= triggerDetailKeys.count,
                      map.allSatisfy({ triggerDetailKeys.contains($0.key) && ($0.value.string?.count ?? 999) <= 256 }) else {
                    return .failure(Diagnostic(.invalidBody, "'trigger_detail' takes strings (at most 256 characters) for \(triggerDetailKeys.sorted().joined(separator: ", "))",
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
            return .failure(Diagnostic(.invalidBody, "the body is not a JSON object", hint: DiagnosticCode.invalidBody.help))
        }
        if flat {
            guard let params = try? JSONDecoder().decode([String: Value].self, from: Data(body)) else {
                return .failure(Diagnostic(.invalidBody, "the body must be an object of param values (strings, numbers, booleans, lists)",
                                           hint: "e.g. {\"targetRef\": \"main\"}"))
            }
            _ = object
            return .success(params)
        }
        if let unknown = object.keys.sorted().first(where: { !["params", "trigger", "trigger_detail"].contains($0) }) {
            return .failure(Diagnostic(.invalidBody, "unknown body key '\(unknown)': the body takes 'params' (and a hook's 'trigger', 'trigger_detail')",
                                       hint: DiagnosticCode.invalidBody.help))
        }
        do {
            return .success(try JSONDecoder().decode(Body.self, from: Data(body)).params ?? [:])
        } catch {
            return .failure(Diagnostic(.invalidBody, "'params' must be an object of param values (strings, numbers, booleans, lists)",
                                       hint: DiagnosticCode.invalidBody.help))
        }
    }

    /// Launches a run. With an `Idempotency-Key` (required where the pipeline says so), the key
    /// is checked first — before params and before the concurrency rule — and the first
    /// response is what every later request with that key and payload gets.
    func launch(_ name: String, _ request: HTTPRequest, flatBody: Bool) -> HTTPResponse {
        guard let loaded = pipeline(name) else { return Self.error(404, .pipelineNotFound, "no pipeline '\(name)'") }
        let policy = loaded.pipeline.pipeline.idempotency
        guard let key = request.header("Idempotency-Key") else {
            if policy?.isRequired == true {
                let code = policy?.errorCode?.value ?? IdempotencyPolicy.defaultErrorCode
                auditRefusal("launch_invalid", code: code, loaded, request, flatBody: flatBody)
                return Self.error(400, .missingParam, "pipeline '\(name)' requires an Idempotency-Key header",
                                  contractCode: code, hint: "send Idempotency-Key: <a UUID>; resending the same request with it is safe")
            }
            return launchRun(loaded, request, flatBody: flatBody, idempotency: nil).response
        }
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            auditRefusal("launch_invalid", code: DiagnosticCode.invalidIdempotencyKey.rawValue, loaded, request, flatBody: flatBody)
            return Self.error(400, .invalidIdempotencyKey, "the Idempotency-Key header must be 1 to 255 printable ASCII characters")
        }
        let scope = "\(request.actor ?? "anonymous") \(request.method) \(request.path)"
        let hash = Crypto.sha256Hex(request.body)
        let ttl = Double((policy?.ttl?.value ?? IdempotencyPolicy.defaultTTL).components.seconds)
        // A request racing the first one with its key waits (briefly) for its answer.
        let deadline = Date().addingTimeInterval(10)
        while true {
            let now = Date()
            let claim: IdempotencyClaim
            do {
                claim = try service.store.claimIdempotencyKey(scope: scope, key: key, payloadHash: hash, now: now,
                                                               expiresAt: now.addingTimeInterval(ttl))
            } catch {
                return Self.storeFailure(error, "cannot record the Idempotency-Key")
            }
            switch claim {
            case .replay(let status, let body):
                return HTTPResponse(status: status, body: body, header: ("Idempotent-Replayed", "true"))
            case .mismatch:
                auditRefusal("launch_rejected", code: DiagnosticCode.idempotencyKeyReused.rawValue, loaded, request, flatBody: flatBody)
                return Self.error(422, .idempotencyKeyReused, "Idempotency-Key '\(key)' was used with another payload")
            case .inFlight:
                if Date() < deadline {
                    usleep(20_000)
                    continue
                }
                auditRefusal("launch_rejected", code: DiagnosticCode.idempotencyKeyInFlight.rawValue, loaded, request, flatBody: flatBody)
                return Self.error(409, .idempotencyKeyInFlight, "the first request with Idempotency-Key '\(key)' is still being processed")
            case .proceed:
                let (response, run) = launchRun(loaded, request, flatBody: flatBody, idempotency: (scope, key))
                // Only an accepted request is remembered: after a 4xx (bad params, an active
                // run) or a 5xx the same key may be sent again once the cause is gone.
                if !(200..<300).contains(response.status) {
                    try? service.store.releaseIdempotencyKey(scope: scope, key: key)
                } else {
                    try? service.store.completeIdempotencyKey(scope: scope, key: key, status: response.status, body: response.body, runID: run)
                }
                return response
            }
        }
    }

    func launchRun(_ loaded: LoadedPipeline, _ request: HTTPRequest, flatBody: Bool,
                   idempotency: (scope: String, key: String)?) -> (response: HTTPResponse, run: RunID?) {
        let name = loaded.name
        let given: [String: Value]
        let launchBody: LaunchBody
        switch Self.launchBody(request.body, flat: flatBody) {
        case .failure(let d):
            auditRefusal("launch_invalid", code: d.displayCode, pipeline: name, params: [:], request)
            return (Self.error(400, d.code, d.message, hint: d.hint), nil)
        case .success(let body):
            launchBody = body
            given = body.params
        }
        let pipeline = loaded.pipeline
        let checked: LaunchCheck.Checked
        switch LaunchCheck.check(given.keys.sorted().map { (name: $0, input: .value(given[$0]!)) }, for: pipeline, pipelineFile: loaded.file) {
        case .success(let c): checked = c
        case .failure(let failure):
            let problems = failure.diagnostics, first = problems[0]
            auditRefusal("launch_invalid", code: first.displayCode, pipeline: name, params: Self.auditShown(given, of: pipeline), request)
            return (Self.error(400, first.code, first.message, contractCode: first.contractCode, hint: first.hint, diagnostics: problems), nil)
        }
        let service = self.service
        let values = checked.params, refs = checked.refs
        var detail = launchBody.triggerDetail
        let trigger = launchBody.trigger
        if let idempotency {
            // The run remembers its key: a key left in flight by a crash is settled from it.
            detail[RunRecord.idempotencyKeyDetail] = idempotency.key
            detail[RunRecord.idempotencyScopeDetail] = idempotency.scope
        }
        let triggerDetail = detail
        let outcome: Result<RunService.Admission, any Error> = Self.wait {
            do {
                return .success(try await service.admit(pipeline: pipeline, definition: loaded.definition, file: loaded.file,
                                                        params: values, trigger: trigger,
                                                        parallelism: ProcessInfo.processInfo.activeProcessorCount, refs: refs,
                                                        triggerDetail: triggerDetail))
            } catch {
                return .failure(error)
            }
        }
        let secrets = Set(pipeline.pipeline.params.filter(\.isSecret).map(\.name.value))
        let shown = values.reduce(into: [String: Value]()) { $0[$1.key] = secrets.contains($1.key) ? .string("***") : $1.value }
        switch outcome {
        case .failure(let error):
            return (Self.storeFailure(error, "cannot record the run"), nil)
        case .success(.created(let id)):
            audit("launch", id, pipeline: name, params: shown, request)
            execute(id, pipeline: pipeline)
            return (Self.json(202, Accepted(runID: id.rawValue, pipeline: name, status: RunStatus.queued.rawValue,
                                            acceptedAt: Timestamp.format(Date()), trigger: trigger.rawValue, params: shown)), id)
        case .success(.rejected(let active, let code)):
            auditRefusal("launch_rejected", code: code, run: active.id, pipeline: name, params: shown, request)
            return (Self.error(409, .runBusy, "pipeline '\(name)' already has an active run \(active.id) (\(active.status.rawValue))",
                               contractCode: code, run: active), nil)
        case .success(.skipped(let id, let active)):
            audit("launch", id, pipeline: name, params: shown, request)
            return (Self.json(200, Accepted(runID: id.rawValue, pipeline: name, status: RunStatus.skipped.rawValue,
                                            acceptedAt: Timestamp.format(Date()), trigger: trigger.rawValue, params: shown))
                .with(header: ("X-Runner-Active-Run", active.id.rawValue)), id)
        }
    }

    /// Waits on this libmicrohttpd worker thread (never a cooperative one) for engine work.
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = WaitBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            box.value = await body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    // MARK: - Runs

    /// The params of the run to show masked: the secret names stored with it.
    func secrets(of run: RunRecord) -> Set<String> { run.maskedParams }

    /// A run; on an alias route only a run of that pipeline, unknown ids with its own code.
    func showRun(_ id: String, of pipelineName: String?) -> HTTPResponse {
        let notFound = pipelineName.flatMap { pipeline($0)?.pipeline.pipeline.triggers.api?.notFoundErrorCode?.value }
            ?? APITrigger.defaultNotFoundErrorCode
        let found: StoredRun?
        do { found = try service.store.load(RunID(id)) } catch { return Self.storeFailure(error, "cannot read run '\(id)'") }
        guard let stored = found, pipelineName.map({ stored.run.pipeline == $0 }) ?? true else {
            return Self.error(404, .runNotFound, "no run '\(id)'" + (pipelineName.map { " of pipeline '\($0)'" } ?? ""),
                              contractCode: notFound)
        }
        let retryable = retryability(of: stored)
        var header = RunJSON(stored.run, masked: secrets(of: stored.run))
        header.retryable = retryable.run
        let steps = stored.steps.lazy.map { record in
            var step = RunJSON.step(record)
            step.retryable = retryable.steps[record.name]
            return step
        }
        return HTTPResponse(status: 200, body: JSONWriter.document {
            header.write(to: &$0, steps: steps, attempts: stored.attempts.lazy.map(RunJSON.attempt))
        })
    }

    /// Whether each failed step's error, and the run's, is one its pipeline retries (an error
    /// class with attempts left to give, or a deferred retry): a transient failure.
    func retryability(of stored: StoredRun) -> (run: Bool?, steps: [StepName: Bool]) {
        let failed = stored.steps.filter { $0.status == .failed }
        guard !failed.isEmpty || stored.run.status == .failed else { return (nil, [:]) }
        let model: Pipeline?
        if let loaded = pipeline(stored.run.pipeline), loaded.definition == stored.run.definition {
            model = loaded.pipeline.pipeline
        } else {
            model = PipelineLoader.load(bytes: Array(stored.run.definition.utf8), file: stored.run.pipelineFile).pipeline?.pipeline
        }
        guard let model else { return (nil, [:]) }
        let byName = Dictionary(model.allSteps.map { ($0.name.value, $0) }, uniquingKeysWith: { a, _ in a })
        var steps: [StepName: Bool] = [:]
        for record in failed {
            guard let step = byName[record.step], let code = record.errorCode else { steps[record.name] = false; continue }
            let policy = StepPolicy(step: step, pipeline: model)
            let retry = policy.errorClasses.first { $0.code == code }?.retry
            steps[record.name] = retry.map { !$0.isNone || $0.deferral != nil } ?? false
        }
        var run: Bool?
        if stored.run.status == .failed || stored.run.status == .rolledBack || stored.run.status == .partial {
            run = failed.first { $0.errorCode == stored.run.errorCode }.flatMap { steps[$0.name] } ?? false
        }
        return (run, steps)
    }

    func listRuns(_ request: HTTPRequest) -> HTTPResponse {
        var query = RunQuery(pipeline: request.query("pipeline"), limit: 50)
        if let text = request.query("status") {
            var statuses: [RunStatus] = []
            for part in text.split(separator: ",") {
                guard let status = RunStatus(rawValue: String(part)) else {
                    return Self.error(400, .invalidParam, "unknown status '\(part)'",
                                      contractCode: nil)
                }
                statuses.append(status)
            }
            query.statuses = statuses
        }
        if let text = request.query("limit") {
            guard let n = Int(text), (1...1000).contains(n) else { return Self.error(400, .invalidParam, "limit takes 1 to 1000, got '\(text)'") }
            query.limit = n
        }
        query.before = request.query("cursor").map(RunID.init)
        struct Page: JSONWritable {
            var runs: [RunJSON]
            var nextCursor: String?
            func write(to json: inout JSONWriter) {
                json.object { json in
                    json.field("next_cursor", nextCursor)
                    json.field("runs", runs)
                }
            }
        }
        do {
            let runs = try service.store.runs(query)
            let page = Page(runs: runs.map { RunJSON($0, masked: secrets(of: $0)) },
                            nextCursor: runs.count == query.limit ? runs.last?.id.rawValue : nil)
            return HTTPResponse(status: 200, body: JSONWriter.document(page))
        } catch {
            return Self.storeFailure(error, "cannot read runs")
        }
    }

    func cancel(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        let found: StoredRun?
        do { found = try service.store.load(RunID(id)) } catch { return Self.storeFailure(error, "cannot read run '\(id)'") }
        guard let stored = found else {
            return Self.error(404, .runNotFound, "no run '\(id)'", contractCode: APITrigger.defaultNotFoundErrorCode)
        }
        guard !stored.run.status.isTerminal else {
            return Self.error(409, .runFinished, "run \(id) has already finished (\(stored.run.status.rawValue))", run: stored.run)
        }
        do {
            _ = try service.store.requestCancel(stored.run.id, at: Date())
            audit("cancel", stored.run.id, pipeline: stored.run.pipeline, params: [:], request)
        } catch {
            return Self.storeFailure(error, "cannot record the cancel")
        }
        struct Cancelling: Encodable {
            var runID: String
            var status: String
            var cancelRequested = true
            enum CodingKeys: String, CodingKey { case runID = "run_id", status, cancelRequested = "cancel_requested" }
        }
        return Self.json(202, Cancelling(runID: id, status: stored.run.status.rawValue))
    }
}

final class WaitBox<T>: @unchecked Sendable {
    var value: T?
}

extension APIServer {
    /// Who did what to which run, from which request (a failure to record is not the
    /// caller's problem: the action stands).
    func audit(_ action: String, _ run: RunID, pipeline: String, params: [String: Value], _ request: HTTPRequest) {
        let trace = AccessTokens.traceID(traceparent: request.header("traceparent"), requestID: request.header("X-Request-Id"))
        try? service.store.appendAudit(AuditRecord(at: Date(), action: action, runID: run, pipeline: pipeline,
                                                   actor: request.actor ?? "anonymous", params: params, traceID: trace))
    }

    func listAudit(_ request: HTTPRequest) -> HTTPResponse {
        let limit = request.query("limit").flatMap(Int.init) ?? 100
        struct Page: Encodable { var entries: [AuditJSON] }
        do {
            return Self.json(200, Page(entries: try service.store.audit(limit: limit).map(AuditJSON.init)))
        } catch {
            return Self.storeFailure(error, "cannot read the audit log")
        }
    }
}
