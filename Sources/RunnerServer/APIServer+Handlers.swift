import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerJSON

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

    struct RouteJSON: Encodable {
        var method: String
        var path: String
        var operation: String
    }

    struct PipelineJSON: Encodable {
        var name: String
        var description: String?
        var file: String
        var params: [ParamJSON]?
        var apiPath: String?
        var routes: [RouteJSON]?
        enum CodingKeys: String, CodingKey { case name, description, file, params, apiPath = "api_path", routes }
    }

    static func describe(_ loaded: LoadedPipeline, params: Bool) -> PipelineJSON {
        let p = loaded.pipeline.pipeline
        return PipelineJSON(
            name: loaded.name, description: p.description, file: loaded.file,
            params: params ? p.params.map {
                ParamJSON(name: $0.name.value, type: $0.kind.displayName, required: $0.isRequired, secret: $0.isSecret,
                          defaultValue: $0.isSecret ? nil : $0.defaultValue?.value, errorCode: $0.errorCode?.value, description: $0.description)
            } : nil,
            apiPath: p.triggers.api?.path.value,
            routes: params ? p.contract.map { contract in
                contract.routes.map { RouteJSON(method: $0.method.value, path: $0.path.value,
                                                operation: $0.operation.value.rawValue) }
            } : nil)
    }

    func listPipelines() -> HTTPResponse {
        struct List: Encodable { var pipelines: [PipelineJSON] }
        return Self.json(200, List(pipelines: pipelineNames.compactMap { pipeline($0) }.map { Self.describe($0, params: false) }))
    }

    func showPipeline(_ name: String) -> HTTPResponse {
        guard let loaded = pipeline(name) else { return Self.error(404, .pipelineNotFound, "no pipeline '\(name)'") }
        return Self.json(200, Self.describe(loaded, params: true))
    }

    // MARK: - Runs

    /// The run `id` given to `answer`; 404 when there is none, the store's failure when it
    /// cannot say. Without its definition unless `definition`.
    func withRun(_ id: String, definition: Bool = false, _ answer: (StoredRun) -> HTTPResponse) -> HTTPResponse {
        let found: StoredRun?
        do {
            found = try service.store.load(RunID(id), definition: definition)
        } catch {
            return Self.storeFailure(error, "cannot read run '\(id)'")
        }
        guard let stored = found else {
            return Self.error(404, .runNotFound, "no run '\(id)'", contractCode: APITrigger.defaultNotFoundErrorCode)
        }
        return answer(stored)
    }

    /// The params of the run to show masked: the secret names stored with it.
    func secrets(of run: RunRecord) -> Set<String> { run.maskedParams }

    /// A run; on an alias route only a run of that pipeline, unknown ids with its own code.
    func showRun(_ id: String, of pipelineName: String?) -> HTTPResponse {
        let notFound = pipelineName.flatMap { pipeline($0)?.pipeline.pipeline.triggers.api?.notFoundErrorCode?.value }
            ?? APITrigger.defaultNotFoundErrorCode
        let found: StoredRun?
        do { found = try service.show(RunID(id)) } catch { return Self.storeFailure(error, "cannot read run '\(id)'") }
        guard let stored = found, pipelineName.map({ stored.run.pipeline == $0 }) ?? true else {
            return Self.error(404, .runNotFound, "no run '\(id)'" + (pipelineName.map { " of pipeline '\($0)'" } ?? ""),
                              contractCode: notFound)
        }
        let model = model(of: stored)
        let retryable = retryability(of: stored, model: model)
        var header = RunJSON(stored.run, masked: secrets(of: stored.run))
        header.retryable = retryable.run
        // The weights the run's own definition declares; every main step once without it.
        header.setProgress(of: stored.steps,
                           weights: model.map(RunProgress.weights(of:)) ?? RunProgress.defaultWeights(of: stored.steps))
        let steps = stored.steps.lazy.map { record in
            var step = RunJSON.step(record)
            step.retryable = retryable.steps[record.name]
            return step
        }
        return HTTPResponse(status: 200, body: JSONWriter.document {
            header.write(to: &$0, steps: steps, attempts: stored.attempts.lazy.map(RunJSON.attempt))
        })
    }

    /// The run's pipeline: the one loaded when the run recorded its text, else its stored
    /// definition (parsed once for many requests); nil when that no longer loads.
    func model(of stored: StoredRun) -> Pipeline? {
        if let loaded = pipeline(stored.run.pipeline), loaded.definition == stored.run.definition {
            return loaded.pipeline.pipeline
        }
        return try? StoredDefinition.load(stored.run).get().pipeline
    }

    /// Whether each failed step's error, and the run's, is one its pipeline retries (an error
    /// class with attempts left to give, or a deferred retry): a transient failure.
    func retryability(of stored: StoredRun, model: Pipeline?) -> (run: Bool?, steps: [StepName: Bool]) {
        let failed = stored.steps.filter { $0.status == .failed }
        guard !failed.isEmpty || stored.run.status == .failed else { return (nil, [:]) }
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

    /// The runs newest first; `pipeline` and `actor` (a contract's list without a response)
    /// narrow them down beyond the request's query.
    func listRuns(_ request: HTTPRequest, pipeline: String? = nil, actor: String? = nil) -> HTTPResponse {
        var query = RunQuery(pipeline: pipeline ?? request.query("pipeline"), limit: 50)
        query.actor = actor
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
        let outcome: CancelOutcome
        do {
            outcome = try service.cancel(RunID(id), audit: auditContext(request))
        } catch {
            return Self.failure(error, run: id)
        }
        switch outcome {
        case .notFound:
            return Self.error(404, .runNotFound, "no run '\(id)'", contractCode: APITrigger.defaultNotFoundErrorCode)
        case .alreadyFinished(let run):
            return Self.error(409, .runFinished, "run \(id) has already finished (\(run.status.rawValue))", run: run)
        case .requested(let run, _):
            struct Cancelling: Encodable {
                var runID: String
                var status: String
                var cancelRequested = true
                enum CodingKeys: String, CodingKey {
                    case runID = "run_id", status, cancelRequested = "cancel_requested"
                }
            }
            return Self.json(202, Cancelling(runID: id, status: run.status.rawValue))
        }
    }

    /// A new run of the same pipeline, params and commits from a step on (default: the first
    /// main step that did not succeed); earlier successes are reused.
    func retry(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        withRun(id, definition: true) { retry(stored: $0, request) }
    }

    private func retry(stored: StoredRun, _ request: HTTPRequest) -> HTTPResponse {
        let id = stored.run.id.rawValue
        guard stored.run.status.isTerminal else {
            let message = "run \(id) has not finished (\(stored.run.status.rawValue)); cancel it first"
            return Self.error(409, .runBusy, message, run: stored.run)
        }
        var from = request.query("from")
        if from == nil, !request.body.isEmpty {
            guard let body = try? JSONDecoder().decode([String: String].self, from: Data(request.body)),
                  Set(body.keys).isSubset(of: ["from"]) else {
                return Self.error(400, .invalidBody, "the body takes {\"from\": \"STEP\"} only")
            }
            from = body["from"]
        }
        guard let step = from ?? stored.steps.first(where: { $0.section == "main" && $0.status != .succeeded })?.step
        else {
            let message = "run \(id) has no failed step to retry from; give one with {\"from\": \"STEP\"}"
            return Self.error(409, .runFinished, message, run: stored.run)
        }
        let outcome: LaunchOutcome
        do {
            outcome = try service.retry(stored.run.id, from: step, trigger: .api, audit: auditContext(request))
        } catch {
            return Self.failure(error, run: id)
        }
        return retried(outcome, of: stored.run, from: step)
    }

    private func retried(_ outcome: LaunchOutcome, of original: RunRecord, from step: String) -> HTTPResponse {
        switch outcome {
        case .accepted(let run):
            execute(run.id)
            struct Retried: Encodable {
                var runID: String
                var retryOf: String
                var from: String
                var status: String
                enum CodingKeys: String, CodingKey { case runID = "run_id", retryOf = "retry_of", from, status }
            }
            return Self.json(202, Retried(runID: run.id.rawValue, retryOf: original.id.rawValue, from: step,
                                          status: RunStatus.queued.rawValue))
        case .rejected(let active, let code):
            return Self.error(409, .runBusy, LaunchOutcome.conflictMessage(pipeline: original.pipeline, active: active),
                              contractCode: code, run: active)
        case .invalid(let problems):
            return Self.error(400, .stepNotFound, problems.first?.message ?? "run \(original.id) cannot be retried")
        case .skipped, .replayed, .keyMismatch, .keyInFlight:
            // A retry is never skipped and has no Idempotency-Key.
            return Self.error(500, .internalError, "run \(original.id) could not be retried")
        }
    }
}

extension APIServer {
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
