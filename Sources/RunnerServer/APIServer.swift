import FoundationEssentials
import RunnerCore
import RunnerCrypto
import RunnerEngine
import RunnerJSON
import RunnerYAML

/// The HTTP API of `runner serve`: named pipelines from one directory, launched, followed and
/// cancelled over JSON, executed by the engine in this process with the CLI's store.
public final class APIServer: @unchecked Sendable {
    public let service: RunService
    let directory: String
    private let lock = Lock()
    private var pipelines: [String: LoadedPipeline] = [:]
    private var running = 0
    /// Runs accepted while `maxExecuting` were executing: started, in order, as others end.
    private var waitingToStart: [(id: RunID, pipeline: ValidatedPipeline?)] = []
    /// At most this many runs execute in this process at once. A burst of launches faster than
    /// the machine runs them otherwise made an executor (and its memory) for each at once: the
    /// server's memory grew with the burst.
    static let maxExecuting = 256
    let metrics = Metrics()
    let eventHub = EventHub()
    private var currentRouter = Router()
    var router: Router { lock.withLock { currentRouter } }
    /// `GET /api/v1/openapi.json`: made at each load, for the routes then served.
    private var currentOpenAPI = HTTPResponse(status: 200, body: [])
    var openAPIDocument: HTTPResponse { lock.withLock { currentOpenAPI } }

    public init(pipelinesDirectory: String, service: RunService) {
        self.directory = pipelinesDirectory
        self.service = service
        currentRouter = routes(aliases: [], contracts: [])
        currentOpenAPI = Self.openAPI(of: [:], aliases: [], contracts: [])
    }

    // MARK: - Pipelines

    /// Loads every `.yaml` of the directory; returns the diagnostics of those that do not load
    /// (they are left out; the others are served). Replaces what was loaded before.
    @discardableResult
    public func reload() -> [(file: String, diagnostics: [Diagnostic])] {
        let served = Self.load(directory)
        let router = routes(aliases: served.aliases, contracts: served.contracts)
        let openAPI = Self.openAPI(of: served.loaded, aliases: served.aliases, contracts: served.contracts)
        lock.withLock {
            pipelines = served.loaded
            currentRouter = router
            currentOpenAPI = openAPI
        }
        return served.problems
    }

    /// What a directory serves: its pipelines that load, their alias and contract routes, and
    /// the diagnostics of what is left out.
    struct Served {
        var loaded: [String: LoadedPipeline]
        var aliases: [(path: String, pipeline: String)]
        var contracts: [ContractEndpoint]
        var problems: [(file: String, diagnostics: [Diagnostic])]
    }

    static func load(_ directory: String) -> Served {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var loaded: [String: LoadedPipeline] = [:]
        var problems: [(String, [Diagnostic])] = []
        for name in files {
            let file = URL(fileURLWithPath: directory).appendingPathComponent(name).standardizedFileURL.path
            let bytes: [UInt8]
            switch PipelineLoader.readFile(file) {
            case .success(let read): bytes = read
            case .failure(let d):
                problems.append((file, [d]))
                continue
            }
            let result = PipelineLoader.load(bytes: bytes, file: file).confiningWorkdirs(file: file)
            guard let pipeline = result.pipeline else {
                problems.append((file, result.diagnostics.filter(\.isError)))
                continue
            }
            let pipelineName = pipeline.pipeline.name.value
            if let other = loaded[pipelineName] {
                problems.append((file, [Diagnostic(.invalidName, "pipeline '\(pipelineName)' is also defined in \(other.file)",
                                                   hint: "give each pipeline of the directory its own name")]))
                continue
            }
            let definition = String(decoding: bytes, as: UTF8.self)
            loaded[pipelineName] = LoadedPipeline(pipeline: pipeline, definition: definition, file: file)
        }
        let aliases = Self.aliases(of: loaded, problems: &problems)
        let contracts = ContractEndpoint.endpoints(of: loaded, aliases: aliases, problems: &problems)
        return Served(loaded: loaded, aliases: aliases, contracts: contracts, problems: problems)
    }

    /// Alias routes declared by the pipelines (`triggers.api.path`); the first one wins.
    private static func aliases(of loaded: [String: LoadedPipeline],
                                problems: inout [(String, [Diagnostic])]) -> [(path: String, pipeline: String)] {
        var aliases: [(path: String, pipeline: String)] = []
        for (name, entry) in loaded.sorted(by: { $0.key < $1.key }) {
            guard let path = entry.pipeline.pipeline.triggers.api?.path.value else { continue }
            if let other = aliases.first(where: { $0.path == path }) {
                let message = "api path \(path) is also declared by pipeline '\(other.pipeline)'; "
                    + "not served for '\(name)'"
                problems.append((entry.file, [Diagnostic(.invalidPath, message)]))
                continue
            }
            aliases.append((path, name))
        }
        return aliases
    }

    public var pipelineNames: [String] { lock.withLock { pipelines.keys.sorted() } }

    func pipeline(_ name: String) -> LoadedPipeline? { lock.withLock { pipelines[name] } }

    // MARK: - Runs executing here

    /// Executes a run in the background of this process. `pipeline`: the model the run was
    /// just created from (its definition, already parsed), which spares parsing it again.
    func execute(_ id: RunID, pipeline: ValidatedPipeline? = nil) {
        let start: Bool = lock.withLock {
            guard running < Self.maxExecuting else {
                waitingToStart.append((id, pipeline))
                return false
            }
            running += 1
            return true
        }
        if start { startExecutor(id, pipeline) }
    }

    /// Why the API cannot hash and compare tokens here (libcrypto missing); nil when it can.
    public static var cryptoUnavailable: String? { Crypto.unavailable }

    private func startExecutor(_ id: RunID, _ pipeline: ValidatedPipeline?) {
        let service = self.service, hub = eventHub
        Task.detached { [weak self] in
            _ = try? await service.execute(id, pipeline: pipeline, observer: { _ in hub.notify(id) })
            self?.executorEnded()
        }
    }

    /// One executor ended: the next waiting run takes its place.
    private func executorEnded() {
        let next: (id: RunID, pipeline: ValidatedPipeline?)? = lock.withLock {
            guard !waitingToStart.isEmpty else {
                running -= 1
                return nil
            }
            return waitingToStart.removeFirst()
        }
        if let next { startExecutor(next.id, next.pipeline) }
    }

    /// Runs executing in this process now, or accepted and about to.
    public var executing: Int { lock.withLock { running + waitingToStart.count } }

    /// Runs whose runner died (this server before a restart, or a CLI run) are finished here.
    public func resumeUnfinished() -> [RunID] {
        // Keys a killed server left in flight: answered by the run they created, if any.
        _ = try? service.store.settleInFlightIdempotencyKeys { run in
            let accepted = Self.accepted(run, status: .queued)
            return (accepted.status, accepted.body)
        }
        let orphans = (try? service.orphans()) ?? []
        for run in orphans { execute(run.id) }
        return orphans.map(\.id)
    }

    /// How often the server looks for unfinished runs nobody executes.
    static let adoptionInterval: Double = 5

    /// Unfinished runs nobody executes any more (their runner died, or gave up on a store
    /// that failed for too long, or lost its lease) are executed here, as at start.
    func adoptOrphans(log: (String) -> Void) {
        let known: Set<RunID> = lock.withLock { Set(waitingToStart.map(\.id)) }
        guard let orphans = try? service.orphans() else { return }
        for run in orphans where !known.contains(run.id) && !RunService.isExecutingHere(run.id) {
            log("finishing run \(run.id) (\(run.status.rawValue)), which nobody executes")
            execute(run.id)
        }
    }

    // MARK: - Requests

    /// Answers a request: the route it matches says what token it needs (`Router.Access`) and
    /// what it is counted under. Authentication comes before the 404 or 405 of a request no
    /// route takes, so that without a token every path but the health check answers 401.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let match = router.match(method: request.method, path: request.path)
        var request = request
        if case .role(let needed) = match.access(method: request.method) {
            let route: Router.Route? = if case .found(let route, _) = match { route } else { nil }
            if let refusal = authorize(&request, needing: needed, basic: route?.acceptsBasic ?? false) {
                guard let route, let shape = route.refusalShape else { return refusal.response }
                return shape(refusal, request)
            }
        }
        if request.isBodyTooLarge {
            return Self.error(413, .bodyTooLarge, "the request body is larger than the server accepts")
        }
        switch match {
        case .found(let route, let captures):
            let response = route.handler(request, captures)
            metrics.count(route: route.metricName(for: request.method), status: response.status)
            return response
        case .methodNotAllowed(let allowed):
            metrics.count(route: "unmatched", status: 405)
            return Self.error(405, .methodNotAllowed, "\(request.path) does not take \(request.method)")
                .with(header: ("Allow", allowed.joined(separator: ", ")))
        case .notFound:
            metrics.count(route: "unmatched", status: 404)
            return Self.error(404, .routeNotFound, "no route \(request.path)")
        }
    }

    func routes(aliases: [(path: String, pipeline: String)], contracts: [ContractEndpoint]) -> Router {
        var r = Router()
        // The pipelines' contracts: each route as the pipeline declares it (`api.routes`).
        addContractRoutes(contracts, to: &r)
        // The seeds' own routes: a flat JSON object of params launches, `/{id}` shows a run of
        // that pipeline, unknown ids answer the pipeline's not-found code.
        for alias in aliases {
            let name = alias.pipeline
            r.add("POST", alias.path) { [unowned self] request, _ in launch(name, request, flatBody: true) }
            r.add("GET", alias.path + "/{id}") { [unowned self] _, c in showRun(c["id"]!, of: name) }
        }
        // Viewers read and operators change (each method's default access), but for the health
        // check (load balancers have no token) and the audit log (admins').
        r.add("GET", "/healthz", access: .open) { [unowned self] _, _ in health() }
        r.add("GET", "/metrics") { [unowned self] _, _ in metricsText() }
        r.add("GET", "/api/v1/pipelines") { [unowned self] _, _ in listPipelines() }
        r.add("GET", "/api/v1/openapi.json") { [unowned self] _, _ in openAPIDocument }
        r.add("GET", "/api/v1/pipelines/{name}") { [unowned self] _, c in showPipeline(c["name"]!) }
        r.add("POST", "/api/v1/pipelines/{name}/runs") { [unowned self] request, c in
            launch(c["name"]!, request, flatBody: false)
        }
        r.add("GET", "/api/v1/runs") { [unowned self] request, _ in listRuns(request) }
        r.add("GET", "/api/v1/runs/{id}") { [unowned self] _, c in showRun(c["id"]!, of: nil) }
        r.add("POST", "/api/v1/runs/{id}/cancel") { [unowned self] request, c in cancel(c["id"]!, request) }
        r.add("GET", "/api/v1/audit", access: .role(.admin)) { [unowned self] request, _ in listAudit(request) }
        r.add("GET", "/api/v1/runs/{id}/steps/{step}/log") { [unowned self] request, c in
            stepLog(c["id"]!, c["step"]!, request)
        }
        r.add("POST", "/api/v1/runs/{id}/retry") { [unowned self] request, c in retry(c["id"]!, request) }
        r.add("GET", "/api/v1/runs/{id}/events") { [unowned self] request, c in events(c["id"]!, request) }
        return r
    }

    // MARK: - Answers

    struct ErrorBody: Encodable {
        var code: String
        var message: String
        var hint: String?
        var runID: String?
        var status: String?
        var diagnostics: [DiagnosticJSON]?
        enum CodingKeys: String, CodingKey { case code, message, hint, runID = "run_id", status, diagnostics }
    }

    static func json<T: Encodable>(_ status: Int, _ value: T) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(JSONOutput.encode(value).utf8))
    }

    static func error(_ status: Int, _ code: DiagnosticCode, _ message: String, contractCode: String? = nil, hint: String? = nil,
                      run: RunRecord? = nil, diagnostics: [Diagnostic]? = nil) -> HTTPResponse {
        json(status, ErrorBody(code: contractCode ?? code.rawValue, message: message, hint: hint ?? code.help, runID: run?.id.rawValue,
                               status: run?.status.rawValue, diagnostics: diagnostics?.map(DiagnosticJSON.init)))
    }

    /// 200 while the store records; 503 while its writes fail (another process holds the
    /// database, the disk is full), saying why and since when.
    func health() -> HTTPResponse {
        struct Health: Encodable { var status: String; var store: String; var pipelines: Int; var executing: Int }
        let failure = service.store.health.current
        return Self.json(failure == nil ? 200 : 503, Health(status: failure == nil ? "ok" : "unavailable",
                                                            store: failure.map { "failing: \($0)" } ?? "ok",
                                                            pipelines: pipelineNames.count, executing: executing))
    }

    /// A store that failed: 503 with a `Retry-After` when the failure may pass (a lock held
    /// elsewhere, a full disk), 500 otherwise. Never "not found".
    static func storeFailure(_ error: any Error, _ doing: String) -> HTTPResponse {
        storeFailureAnswer(error, doing).response
    }

    static func storeFailureAnswer(_ error: any Error, _ doing: String) -> ErrorAnswer {
        if error.isTransientStoreFailure {
            return ErrorAnswer(status: 503, code: .stateBusy,
                               message: "\(doing): the state store is busy or failing (\(error))",
                               headers: [("Retry-After", "1")])
        }
        return ErrorAnswer(status: 500, code: .stateUnavailable, message: "\(doing): \(error)")
    }
}
