import FoundationEssentials
import RunnerCore
import RunnerEngine

/// Launches the server refused are audited too: who tried to launch what, and why not.
extension APIServer {
    /// A launch refused with a 400 or 409: who tried what, and the code of the answer. `run` is
    /// the active run a conflict names.
    func auditRefusal(_ action: String, code: String, run: RunID? = nil, pipeline: String, params: [String: Value],
                      _ request: HTTPRequest) {
        let trace = AccessTokens.traceID(traceparent: request.header("traceparent"),
                                         requestID: request.header("X-Request-Id"))
        try? service.store.appendAudit(AuditRecord(at: Date(), action: action, runID: run, pipeline: pipeline,
                                                   actor: request.actor ?? "anonymous", params: params, traceID: trace,
                                                   code: code))
    }

    /// The same, before the body was read (the Idempotency-Key is checked first): its params
    /// when it has readable ones.
    func auditRefusal(_ action: String, code: String, _ loaded: LoadedPipeline, _ request: HTTPRequest, flatBody: Bool) {
        let given = (try? Self.launchBody(request.body, flat: flatBody).get())?.params ?? [:]
        auditRefusal(action, code: code, pipeline: loaded.name, params: Self.auditShown(given, of: loaded.pipeline), request)
    }

    /// Params as a refused launch gave them, for the audit log: secret params and names the
    /// pipeline does not declare (a misspelt secret) as `***`, long strings cut to 256
    /// characters (a refused body may hold a megabyte).
    static func auditShown(_ given: [String: Value], of pipeline: ValidatedPipeline) -> [String: Value] {
        let specs = Dictionary(pipeline.pipeline.params.map { ($0.name.value, $0) }, uniquingKeysWith: { a, _ in a })
        func cut(_ value: Value) -> Value {
            switch value {
            case .string(let s) where s.count > 256: return .string(String(s.prefix(256)) + "…")
            case .list(let items): return .list(items.prefix(100).map(cut))
            default: return value
            }
        }
        return given.reduce(into: [:]) { shown, entry in
            shown[entry.key] = specs[entry.key].map { $0.isSecret ? .string("***") : cut(entry.value) } ?? .string("***")
        }
    }
}
