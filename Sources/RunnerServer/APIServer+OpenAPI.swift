import RunnerContract
import RunnerCore
import RunnerEngine

/// `GET /api/v1/openapi.json`: the OpenAPI document of the routes served, made by
/// `OpenAPIGenerator` at each load (SIGHUP too) from the routes the router was given.
extension APIServer {
    static func openAPI(of loaded: [String: LoadedPipeline], aliases: [(path: String, pipeline: String)],
                        contracts: [ContractEndpoint]) -> HTTPResponse {
        switch OpenAPIBase.document {
        case .failure(let unreadable):
            let reasons = unreadable.diagnostics.map(\.message).joined(separator: "; ")
            return error(500, .internalError, "this runner was built with a broken schemas/openapi.yaml: \(reasons)")
        case .success(let base):
            let aliases = aliases.compactMap { alias in
                loaded[alias.pipeline].map { OpenAPIGenerator.Alias(path: alias.path, pipeline: $0.pipeline.pipeline) }
            }
            let endpoints = contracts.map { endpoint in
                OpenAPIGenerator.Endpoint(entries: endpoint.entries.compactMap { entry in
                    loaded[entry.pipeline].map { ($0.pipeline.pipeline, entry.route) }
                })
            }
            let document = OpenAPIGenerator.document(base: base, aliases: aliases, endpoints: endpoints)
            return HTTPResponse(status: 200, body: document.bytes)
        }
    }

    /// The document `runner serve --pipelines DIRECTORY` would answer, and what it leaves out.
    public static func openAPI(directory: String) -> (document: HTTPResponse,
                                                      problems: [(file: String, diagnostics: [Diagnostic])]) {
        let served = load(directory)
        return (openAPI(of: served.loaded, aliases: served.aliases, contracts: served.contracts), served.problems)
    }
}
