import FoundationEssentials
import RunnerContract
import RunnerCore
import RunnerEngine
import RunnerJSON

/// The five operations a contract route can be.
extension APIServer {
    func contractLaunch(_ entry: ContractEndpoint.Entry, _ request: HTTPRequest, _ captures: [String: String]) -> HTTPResponse {
        guard let loaded = pipeline(entry.pipeline) else {
            return contractError(entry, .notFound, code: DiagnosticCode.pipelineNotFound.rawValue,
                                 message: "no pipeline '\(entry.pipeline)'", facts: requestFacts(request, captures))
        }
        var launch = LaunchRequest(pipeline: loaded, params: .given([]), trigger: .api,
                                   parallelism: ProcessInfo.processInfo.activeProcessorCount)
        launch.audit = auditContext(request)
        var facts = requestFacts(request, captures)
        switch RequestMapping.params(entry.route, body: request.body, path: captures, query: request.query) {
        case .success(let params):
            launch.params = Self.launchInputs(params, route: entry.route)
            facts.params = Self.shownInErrors(params, of: loaded.pipeline.pipeline)
        case .failure(let problem):
            let spec = problem.param.flatMap { loaded.pipeline.pipeline.param(named: $0) }
            let code = problem.condition == .badRequest ? DiagnosticCode.invalidBody.rawValue
                : spec?.errorCode?.value ?? DiagnosticCode.invalidParam.rawValue
            service.auditRefusal(launch, code: code)
            return contractError(entry, problem.condition, code: code, message: problem.message, param: problem.param,
                                 facts: facts)
        }
        let answerFacts = facts
        let answers = LaunchAnswers(
            outcome: { [unowned self] outcome, _ in contractOutcome(entry, outcome, answerFacts) },
            missingKey: { [unowned self] code, message in
                contractError(entry, .missingIdempotencyKey, code: code, message: message, facts: facts)
            },
            invalidKey: { [unowned self] message in
                contractError(entry, .badRequest, code: DiagnosticCode.invalidIdempotencyKey.rawValue, message: message,
                              facts: facts)
            })
        return self.launch(launch, request, answers: answers)
    }

    private func contractOutcome(_ entry: ContractEndpoint.Entry, _ outcome: LaunchOutcome,
                                 _ facts: RequestFacts) -> HTTPResponse {
        func error(_ condition: ContractCondition, _ code: DiagnosticCode, _ message: String, contractCode: String? = nil,
                   param: String? = nil, run: RunRecord? = nil) -> HTTPResponse {
            contractError(entry, condition, code: contractCode ?? code.rawValue, message: message, param: param,
                          run: run.map { StoredRun(run: $0, steps: [], attempts: []) }, facts: facts)
        }
        switch outcome {
        case .accepted(let run), .skipped(let run, _):
            // The step records are created with the run: a template looping over steps
            // shows them (queued) in the launch's answer too.
            let stored = (try? service.show(run.id)) ?? StoredRun(run: run, steps: [], attempts: [])
            return contractSuccess(entry, stored, facts)
        case .rejected(let active, let code):
            return error(.conflict, .runBusy, LaunchOutcome.conflictMessage(pipeline: entry.pipeline, active: active),
                         contractCode: code, run: active)
        case .invalid(let problems):
            let first = problems.first
            return error(.invalid, first?.code ?? .invalidParam, first?.message ?? "invalid launch",
                         contractCode: first?.contractCode, param: first.flatMap(Self.paramName))
        case .replayed(let status, let body):
            return HTTPResponse(status: status, body: body, header: ("Idempotent-Replayed", "true"))
        case .keyMismatch:
            return error(.idempotencyKeyReused, .idempotencyKeyReused, "Idempotency-Key was used with another payload")
        case .keyInFlight:
            return error(.idempotencyKeyInFlight, .idempotencyKeyInFlight,
                         "the first request with this Idempotency-Key is still being processed")
        }
    }

    /// Params read from the path or the query are text, typed as their declaration says
    /// (`/jobs/3` gives an int param 3), as `-p k=v` is; a body's values are typed already.
    static func launchInputs(_ params: [String: Value], route: ContractRoute) -> LaunchRequest.Params {
        let textual = Set(route.params.compactMap { mapping -> String? in
            if case .body = mapping.source.value { return nil }
            return mapping.name.value
        })
        return .given(params.keys.sorted().compactMap { name in
            guard let value = params[name] else { return nil }
            if textual.contains(name), case .string(let text) = value { return (name: name, input: .text(text)) }
            return (name: name, input: .value(value))
        })
    }

    /// The params as a client sent them, for error templates: secret ones left out; a value
    /// of another type than the param's (a list for a path) as its text, so that
    /// `'Invalid path. path:' + params.zipFilePath` still writes what was sent.
    static func shownInErrors(_ params: [String: Value], of pipeline: Pipeline) -> [String: Value] {
        params.reduce(into: [:]) { shown, param in
            guard let spec = pipeline.param(named: param.key), !spec.isSecret else { return }
            switch (spec.kind.expressionType, param.value) {
            case (.string, .string), (.number, .int), (.number, .number), (.bool, .bool), (.list, .list), (_, .null):
                shown[param.key] = param.value
            default:
                shown[param.key] = .string(param.value.displayText)
            }
        }
    }

    /// The param a launch diagnostic is about: its subject, `params.NAME`.
    static func paramName(_ diagnostic: Diagnostic) -> String? {
        guard let subject = diagnostic.subject, subject.hasPrefix("params.") else { return nil }
        return String(subject.dropFirst("params.".count))
    }

    /// The route's success status and response about `stored`; without a response, the run's
    /// JSON as `GET /api/v1/runs/{id}` writes it.
    func contractSuccess(_ entry: ContractEndpoint.Entry, _ stored: StoredRun, _ facts: RequestFacts) -> HTTPResponse {
        guard let response = entry.route.response else {
            var json = showRun(stored.run.id.rawValue, of: nil)
            json.status = entry.route.successStatus
            return json
        }
        return HTTPResponse(status: entry.route.successStatus,
                            body: entry.renderer.render(response, request: facts, run: runFacts(stored)))
    }

    func contractShow(_ entry: ContractEndpoint.Entry, _ request: HTTPRequest, _ captures: [String: String]) -> HTTPResponse {
        switch contractRun(entry, request, captures) {
        case .refused(let answer): return answer
        case .found(let stored): return contractSuccess(entry, stored, requestFacts(request, captures))
        }
    }

    func contractList(_ entry: ContractEndpoint.Entry, _ request: HTTPRequest, _ captures: [String: String]) -> HTTPResponse {
        var query = RunQuery(pipeline: entry.pipeline, limit: 50)
        if let text = request.query("limit") {
            guard let n = Int(text), (1...1000).contains(n) else {
                return contractError(entry, .badRequest, code: DiagnosticCode.invalidParam.rawValue,
                                     message: "limit takes 1 to 1000, got '\(text)'", facts: requestFacts(request, captures))
            }
            query.limit = n
        }
        if entry.contract.visibility == .own { query.actor = request.actor ?? "" }
        let runs: [RunFacts]
        do {
            runs = try service.store.runs(query).compactMap { try service.show($0.id) }.map(runFacts)
        } catch {
            return contractFailure(entry, error, request, captures)
        }
        guard let response = entry.route.response else {
            return listRuns(request, pipeline: entry.pipeline, actor: query.actor)
        }
        return HTTPResponse(status: entry.route.successStatus,
                            body: entry.renderer.render(response, request: requestFacts(request, captures), runs: runs))
    }

    /// Cancels, then waits (up to `cancel_wait`, 10 s by default) for the run to finish, so
    /// the answer shows its end (seed 003 answers CANCELED at once). A run that did its work
    /// to the end before the cancel took effect is the contract's `cannot_cancel`: a success
    /// would tell the client it was cancelled.
    func contractCancel(_ entry: ContractEndpoint.Entry, _ request: HTTPRequest, _ captures: [String: String]) -> HTTPResponse {
        let stored: StoredRun
        switch contractRun(entry, request, captures) {
        case .refused(let answer): return answer
        case .found(let found): stored = found
        }
        let outcome: CancelOutcome
        do {
            outcome = try service.cancel(stored.run.id, audit: auditContext(request))
        } catch {
            return contractFailure(entry, error, request, captures)
        }
        switch outcome {
        case .notFound:
            return contractError(entry, .notFound, code: DiagnosticCode.runNotFound.rawValue,
                                 message: "no run '\(stored.run.id)'", facts: requestFacts(request, captures))
        case .alreadyFinished(let run):
            return contractError(entry, .cannotCancel, code: DiagnosticCode.runFinished.rawValue,
                                 message: "run \(run.id) has already finished (\(run.status.rawValue))",
                                 run: StoredRun(run: run, steps: stored.steps, attempts: []), facts: requestFacts(request, captures))
        case .requested:
            let wait = entry.route.cancelWait?.value ?? .seconds(10)
            let finished = awaitEnd(stored.run.id, within: Double(wait.components.seconds)) ?? stored
            guard finished.run.status != .succeeded, finished.run.status != .partial else {
                let message = "run \(finished.run.id) finished (\(finished.run.status.rawValue)) "
                    + "before the cancel took effect"
                return contractError(entry, .cannotCancel, code: DiagnosticCode.runFinished.rawValue, message: message,
                                     run: finished, facts: requestFacts(request, captures))
            }
            return contractSuccess(entry, finished, requestFacts(request, captures))
        }
    }

    /// The run once it has finished, or as it is when `seconds` have passed.
    private func awaitEnd(_ id: RunID, within seconds: Double) -> StoredRun? {
        let deadline = Monotonic.now() + seconds
        var last: StoredRun?
        repeat {
            last = (try? service.show(id)) ?? last
            if let last, last.run.status.isTerminal { return last }
            Threads.sleep(seconds: 0.02)
        } while Monotonic.now() < deadline
        return last
    }

    func contractRetry(_ entry: ContractEndpoint.Entry, _ request: HTTPRequest, _ captures: [String: String]) -> HTTPResponse {
        let stored: StoredRun
        switch contractRun(entry, request, captures) {
        case .refused(let answer): return answer
        case .found(let found): stored = found
        }
        guard stored.run.status.isTerminal,
              let step = stored.steps.first(where: { $0.section == "main" && $0.status != .succeeded })?.step else {
            return contractError(entry, .cannotRetry, code: DiagnosticCode.runBusy.rawValue,
                                 message: "run \(stored.run.id) (\(stored.run.status.rawValue)) has nothing to retry",
                                 run: stored, facts: requestFacts(request, captures))
        }
        let outcome: LaunchOutcome
        do {
            outcome = try service.retry(stored.run.id, from: step, trigger: .api, audit: auditContext(request))
        } catch {
            return contractFailure(entry, error, request, captures)
        }
        if case .accepted(let run) = outcome { execute(run.id) }
        return contractOutcome(entry, outcome, requestFacts(request, captures))
    }
}
