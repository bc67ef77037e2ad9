import FoundationEssentials
import RunnerContract
import RunnerCore
import RunnerEngine
import RunnerJSON

/// The pipelines' contract routes: the request read as the route maps it, the engine's one
/// operation (launch, show, list, cancel, retry), the outcome written in the contract's shape.
extension APIServer {
    func addContractRoutes(_ endpoints: [ContractEndpoint], to router: inout Router) {
        var prefixes: Set<[Substring]> = []
        for endpoint in endpoints {
            let basic = endpoint.entries.contains { $0.contract.auth.contains(.basic) }
            let entry = endpoint.entries[0]
            router.add(endpoint.method, endpoint.pattern, access: endpoint.access, basic: basic,
                       refusal: { [unowned self] refusal, request in contractRefusal(entry, refusal, request) },
                       { [unowned self] request, captures in contractAnswer(endpoint, request, captures) })
            guard let prefix = endpoint.fallbackPrefix, prefixes.insert(prefix).inserted else { continue }
            let under = endpoints.filter { $0.fallbackPrefix == prefix }
            router.addFallback(Router.Fallback(
                segments: prefix, acceptsBasic: basic,
                refusalShape: { [unowned self] refusal, request in contractRefusal(entry, refusal, request) },
                miss: { [unowned self] request, allowed in
                    // A `%2F` in the last parameter (`/api/br/status/backup/a%2Fb`): that route's
                    // not-found about the parameter as sent (`a/b`).
                    if allowed.isEmpty, let (meant, captures) = ContractEndpoint.loose(request, in: under) {
                        return contractError(meant, .notFound, code: DiagnosticCode.routeNotFound.rawValue,
                                             message: "no route \(request.path)", facts: requestFacts(request, captures))
                    }
                    return contractMiss(entry, request, allowed: allowed)
                }))
        }
    }

    /// A refused token (401, 403) in the contract's shape.
    func contractRefusal(_ entry: ContractEndpoint.Entry, _ refusal: ErrorAnswer,
                         _ request: HTTPRequest) -> HTTPResponse {
        let condition: ContractCondition = switch refusal.status {
        case 401: .unauthorized
        case 403: .forbidden
        default: .unavailable
        }
        var answer = contractError(entry, condition, code: refusal.code.rawValue, message: refusal.message,
                                   facts: requestFacts(request, [:]))
        answer.headers += refusal.headers
        return answer
    }

    /// A request under a contract's paths that no route takes: its `not_found` (404), or a 405
    /// with `Allow` in its error shape.
    func contractMiss(_ entry: ContractEndpoint.Entry, _ request: HTTPRequest, allowed: [String]) -> HTTPResponse {
        let facts = requestFacts(request, [:])
        guard !allowed.isEmpty else {
            return contractError(entry, .notFound, code: DiagnosticCode.routeNotFound.rawValue,
                                 message: "no route \(request.path)", facts: facts)
        }
        var answer = contractError(entry, .badRequest, code: DiagnosticCode.methodNotAllowed.rawValue,
                                   message: "\(request.path) does not take \(request.method)", status: 405,
                                   facts: facts)
        answer.headers.append(("Allow", allowed.joined(separator: ", ")))
        return answer
    }

    func contractAnswer(_ endpoint: ContractEndpoint, _ request: HTTPRequest, _ captures: [String: String]) -> HTTPResponse {
        guard let entry = endpoint.entry(captures) else {
            let name = endpoint.selector ?? ""
            let values = endpoint.entries.compactMap { $0.route.selector?.value }.joined(separator: ", ")
            return contractError(endpoint.entries[0], .badRequest, code: DiagnosticCode.routeNotFound.rawValue,
                                 message: "unknown \(name) '\(captures[name] ?? "")': one of \(values)",
                                 facts: requestFacts(request, captures))
        }
        // The path is shared with a pipeline that takes Basic; this one does not.
        if !entry.contract.auth.contains(.basic),
           request.header("Authorization")?.lowercased().hasPrefix("basic ") == true {
            var refusal = contractError(entry, .unauthorized, code: DiagnosticCode.unauthorized.rawValue,
                                        message: AccessTokens.Failure.malformed.message,
                                        facts: requestFacts(request, captures))
            refusal.headers.append(("WWW-Authenticate", "Bearer"))
            return refusal
        }
        switch entry.route.operation.value {
        case .launch: return contractLaunch(entry, request, captures)
        case .show: return contractShow(entry, request, captures)
        case .list: return contractList(entry, request, captures)
        case .cancel: return contractCancel(entry, request, captures)
        case .retry: return contractRetry(entry, request, captures)
        }
    }

    // MARK: - Facts

    func requestFacts(_ request: HTTPRequest, _ captures: [String: String]) -> RequestFacts {
        RequestFacts(actor: request.actor, method: request.method, path: captures)
    }

    /// A run as templates read it: retryable and progress derived from its pipeline.
    func runFacts(_ stored: StoredRun) -> RunFacts {
        let model = model(of: stored)
        let progress = RunProgress.compute(steps: stored.steps, weights: model.map(RunProgress.weights(of:))
                                               ?? RunProgress.defaultWeights(of: stored.steps))
        return RunFacts(stored: stored, retryable: retryability(of: stored, model: model).run ?? false,
                        progress: progress.percent, progressMessage: progress.message)
    }

    /// The run of the request's path, if it is one this route may show: of its pipeline, and
    /// under `visibility: own` the caller's. Else the contract's not-found answer.
    enum RunLookup {
        case found(StoredRun)
        case refused(HTTPResponse)
    }

    func contractRun(_ entry: ContractEndpoint.Entry, _ request: HTTPRequest,
                     _ captures: [String: String]) -> RunLookup {
        let id = entry.route.runParameter.flatMap { captures[$0] } ?? ""
        let found: StoredRun?
        do { found = try service.show(RunID(id)) } catch {
            return .refused(contractFailure(entry, Self.storeFailureAnswer(error, "cannot read run '\(id)'"),
                                            request, captures))
        }
        guard let stored = found, stored.run.pipeline == entry.pipeline,
              entry.contract.visibility == .all || stored.run.actor == request.actor else {
            let code = pipeline(entry.pipeline)?.pipeline.pipeline.triggers.api?.notFoundErrorCode?.value
                ?? APITrigger.defaultNotFoundErrorCode
            return .refused(contractError(entry, .notFound, code: code, message: "no run '\(id)'",
                                          facts: requestFacts(request, captures)))
        }
        return .found(stored)
    }

    // MARK: - Errors

    /// An error in the contract's shape: the answer its `errors` give the code or condition,
    /// else its `error_body` with the condition's status, else the runner's `{code, message, hint}`.
    func contractError(_ entry: ContractEndpoint.Entry, _ condition: ContractCondition, code: String, message: String,
                       param: String? = nil, run: StoredRun? = nil, status fixed: Int? = nil,
                       facts: RequestFacts) -> HTTPResponse {
        let answer = entry.contract.answer(for: condition, code: code)
        let status = fixed ?? answer?.status?.value ?? condition.defaultStatus
        guard let body = answer?.body ?? entry.contract.errorBody else {
            return Self.json(status, ErrorBody(code: code, message: message, runID: run?.run.id.rawValue,
                                               status: run?.run.status.rawValue))
        }
        let bytes = entry.renderer.render(body, request: facts, run: run.map(runFacts),
                                          error: ErrorFacts(status: status, code: code, message: message, param: param))
        return HTTPResponse(status: status, body: bytes)
    }

    /// A store failure during a contract operation: 503 (or 500) in the contract's shape.
    func contractFailure(_ entry: ContractEndpoint.Entry, _ error: any Error, _ request: HTTPRequest,
                         _ captures: [String: String]) -> HTTPResponse {
        contractFailure(entry, Self.failureAnswer(error), request, captures)
    }

    func contractFailure(_ entry: ContractEndpoint.Entry, _ failure: ErrorAnswer, _ request: HTTPRequest,
                         _ captures: [String: String]) -> HTTPResponse {
        var answer = contractError(entry, .unavailable, code: failure.code.rawValue, message: failure.message,
                                   status: failure.status, facts: requestFacts(request, captures))
        answer.headers += failure.headers
        return answer
    }
}
