import RunnerCore

/// The OpenAPI 3.1 document of what `runner serve` answers: the runner's own routes
/// (`OpenAPIBase`, `schemas/openapi.yaml`), then each pipeline's routes generated from its
/// YAML — the alias routes of `triggers.api`, and every contract route of `api:` with its
/// parameters, request body, success body and every error answer its contract declares. Pure:
/// the server hands it the routes it serves and answers its output.
public enum OpenAPIGenerator {
    /// One method and path of the served contracts and the pipelines behind it: one, or
    /// several that share it through a selector (`{type=backup}`, `{type=restore}`).
    public struct Endpoint: Sendable {
        public var entries: [(pipeline: Pipeline, route: ContractRoute)]

        public init(entries: [(pipeline: Pipeline, route: ContractRoute)]) { self.entries = entries }

        var method: String { entries.first?.route.method.value ?? "GET" }

        /// The path as OpenAPI writes it: a selector is a parameter there.
        var path: String { "/" + (entries.first?.route.segments ?? []).map(\.routePattern).joined(separator: "/") }
    }

    /// A pipeline's `triggers.api` route: `POST path` launches, `GET path/{id}` shows a run.
    public struct Alias: Sendable {
        public var path: String
        public var pipeline: Pipeline

        public init(path: String, pipeline: Pipeline) {
            self.path = path
            self.pipeline = pipeline
        }
    }

    /// `base` with the pipelines' routes added to its paths, in the order given.
    public static func document(base: OpenAPIJSON, aliases: [Alias], endpoints: [Endpoint]) -> OpenAPIJSON {
        var document = base
        var paths = base["paths"] ?? [:]
        var ids = Set(paths.members.flatMap { $0.value.members.compactMap { $0.value["operationId"]?.string } })
        func add(_ path: String, _ method: String, _ operation: OpenAPIJSON) {
            var item = paths[path] ?? [:]
            item[method.lowercased()] = operation
            paths[path] = item
        }
        for alias in aliases {
            let operations = OpenAPIAliasOperations(pipeline: alias.pipeline)
            add(alias.path, "post", operations.launch(id: unique(operations.launchID, &ids)))
            add(alias.path + "/{id}", "get", operations.show(id: unique(operations.showID, &ids)))
        }
        // Every id first: a launch links to the routes that read the run it answers.
        let served = endpoints.filter { !$0.entries.isEmpty }
        let operations = served.map { OpenAPIContractOperation(entries: $0.entries) }
        let named = operations.map { ($0, unique($0.idCandidates, &ids)) }
        for (endpoint, (operation, id)) in zip(served, named) {
            add(endpoint.path, endpoint.method, operation.json(id: id, links: operation.links(to: named)))
        }
        document["paths"] = paths
        return document
    }

    /// The first candidate not taken yet, else the last one numbered.
    static func unique(_ candidates: [String], _ taken: inout Set<String>) -> String {
        var chosen = candidates.first { !taken.contains($0) }
        if chosen == nil, let last = candidates.last {
            chosen = (2...).lazy.map { "\(last)\($0)" }.first { !taken.contains($0) }
        }
        let id = chosen ?? "operation\(taken.count + 1)"
        taken.insert(id)
        return id
    }

    /// Each value once, in the order first met.
    static func distinct<T: Equatable>(_ values: [T]) -> [T] {
        var distinct: [T] = []
        for value in values where !distinct.contains(value) { distinct.append(value) }
        return distinct
    }

    /// `docs-publish` → `DocsPublish`, `br/list` → `BrList`.
    static func camelCase(_ words: [String]) -> String {
        words.flatMap { $0.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) }
            .map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// `pipelines/backup.yaml:52`: where a route is declared, as its file's last two names.
    static func place(_ location: SourceLocation) -> String {
        let names = location.file.split(separator: "/").suffix(2).joined(separator: "/")
        return "\(names):\(location.line)"
    }
}
