import FoundationEssentials
import RunnerContract
import RunnerCore
import RunnerTestSupport
import RunnerYAML
import Testing

/// The OpenAPI document of the runner's routes and the pipelines': the embedded file, and the
/// routes of the seed pipelines' contracts (`pipelines/`), each generated from its YAML.
@Suite struct OpenAPIGeneratorTests {
    static func load(_ yaml: String, file: String = "jobs.yaml") throws -> Pipeline {
        let result = PipelineLoader.load(bytes: Array(yaml.utf8), file: file)
        return try #require(result.pipeline, "\(result.diagnostics.map(\.message))").pipeline
    }

    /// Every pipeline of `pipelines/`, by name.
    static func seeds() throws -> [Pipeline] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Paths.pipelines.path)
            .filter { $0.hasSuffix(".yaml") }
        return try names.sorted().map { name in
            let file = Paths.pipelines.appendingPathComponent(name).path
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
            let result = PipelineLoader.load(bytes: bytes, file: file)
            return try #require(result.pipeline, "\(name): \(result.diagnostics.map(\.message))").pipeline
        }.sorted { $0.name.value < $1.name.value }
    }

    /// The contract endpoints of `pipelines` as the server groups them: one per method and
    /// path, the pipelines sharing it through a selector in name order.
    static func endpoints(_ pipelines: [Pipeline]) -> [OpenAPIGenerator.Endpoint] {
        var grouped: [(key: String, entries: [(pipeline: Pipeline, route: ContractRoute)])] = []
        for pipeline in pipelines {
            for route in pipeline.contract?.routes ?? [] {
                let key = route.method.value + " " + route.segments.map(\.routePattern).joined(separator: "/")
                if let index = grouped.firstIndex(where: { $0.key == key }) {
                    grouped[index].entries.append((pipeline, route))
                } else {
                    grouped.append((key, [(pipeline, route)]))
                }
            }
        }
        return grouped.map { OpenAPIGenerator.Endpoint(entries: $0.entries) }
    }

    static func document(_ pipelines: [Pipeline]) throws -> OpenAPIJSON {
        let aliases = pipelines.compactMap { p in
            p.triggers.api.map { OpenAPIGenerator.Alias(path: $0.path.value, pipeline: p) }
        }
        return OpenAPIGenerator.document(base: try OpenAPIBase.document.get(), aliases: aliases,
                                         endpoints: endpoints(pipelines))
    }

    static func operation(_ document: OpenAPIJSON, _ method: String, _ path: String) throws -> OpenAPIJSON {
        try #require(document["paths"]?[path]?[method.lowercased()], "\(method) \(path) is not in the document")
    }

    static func schema(_ operation: OpenAPIJSON, _ status: Int) -> OpenAPIJSON? {
        operation["responses"]?[String(status)]?["content"]?["application/json"]?["schema"]
    }

    @Test func theRunnersOwnRoutesAreSchemasOpenAPIYAMLAsBuilt() throws {
        let file = try Data(contentsOf: Paths.packageRoot.appendingPathComponent("schemas/openapi.yaml"))
        #expect(OpenAPIBase.yaml == Array(file), "the binary embeds schemas/openapi.yaml as it is")
        let base = try OpenAPIBase.document.get()
        #expect(base["openapi"] == "3.1.0")
        let paths = base["paths"]?.members.map(\.key) ?? []
        #expect(paths.first == "/healthz", "keys keep the order the YAML wrote them")
        #expect(paths.contains("/api/v1/openapi.json") && paths.contains("/api/v1/runs/{id}/events"))
        #expect(base["components"]?["schemas"]?["ContractError"]?["required"] == ["code", "message"])
    }

    /// Every route of every seed contract is in the document: its path parameters (a selector
    /// as the enum of the pipelines sharing it), its success status with the template's keys
    /// in order, 401 everywhere and 403 where an operator is needed.
    @Test func everySeedContractRouteIsDescribed() throws {
        let seeds = try Self.seeds()
        let document = try Self.document(seeds)
        var routes = 0
        for pipeline in seeds {
            for route in pipeline.contract?.routes ?? [] {
                routes += 1
                let path = "/" + route.segments.map(\.routePattern).joined(separator: "/")
                let operation = try Self.operation(document, route.method.value, path)
                let names = operation["parameters"]?.items ?? []
                for name in route.parameterNames {
                    #expect(names.contains { $0["name"] == .string(name) }, "\(path): parameter \(name)")
                }
                if let selector = route.selector {
                    let parameter = names.first { $0["name"] == .string(selector.name) }
                    let values = parameter?["schema"]?["enum"]?.items ?? []
                    #expect(values.contains(.string(selector.value)), "\(path): {\(selector.name)}: \(selector.value)")
                }
                let success = try #require(Self.schema(operation, route.successStatus), "\(path): success")
                if case .object(let members)? = route.response {
                    let options = success["anyOf"]?.items ?? [success]
                    let keys = members.map(\.key)
                    #expect(options.contains { $0["properties"]?.members.map(\.key) == keys }, "\(path): keys \(keys)")
                }
                #expect(operation["responses"]?["401"] != nil, "\(path): 401")
                let isRead = route.operation.value == .show || route.operation.value == .list
                #expect((operation["responses"]?["403"] != nil) == !isRead, "\(path): 403 only for an operator's")
            }
        }
        #expect(routes >= 8, "backup and restore declare four routes each")
    }

    @Test func backupAndRestoreShareTheirSelectorRoutes() throws {
        let document = try Self.document(Self.seeds())
        let status = try Self.operation(document, "GET", "/api/br/status/{type}/{jobId}")
        #expect(status["x-pipelines"] == ["backup", "restore"])
        #expect(status["x-required-role"] == "viewer")
        let type = (status["parameters"]?.items ?? []).first
        #expect(type?["schema"]?["enum"] == ["backup", "restore"])
        #expect(Self.schema(status, 400) != nil, "an unknown {type} is the contract's bad_request")
        let restore = try Self.operation(document, "POST", "/api/restore")
        #expect(Self.schema(restore, 404) != nil, "restore answers INVALID_PATH with 404, as its contract declares")
        let links = try Self.operation(document, "POST", "/api/backup")["responses"]?["200"]?["links"]
        #expect(links?["showBackupRestore"]?["parameters"] == ["jobId": "$response.body#/jobId", "type": "backup"])
    }

    @Test func aliasRoutesAreGeneratedFromTheirParams() throws {
        let pipeline = try Self.load("""
            version: 1
            name: docs-publish
            params:
              targetRef: {type: string, required: true, max_length: 255, error: INVALID_TARGET_REF}
              forceInvalidate: {type: bool, default: false}
            triggers:
              api: {path: /api/v1/admin/docs/publish, not_found_error: DOCS_PUBLISH_RUN_NOT_FOUND}
            steps:
              - {name: build, run: "true"}
            """)
        let document = try Self.document([pipeline])
        let launch = try Self.operation(document, "POST", "/api/v1/admin/docs/publish")
        #expect(launch["operationId"] == "launchDocsPublish")
        let body = launch["requestBody"]?["content"]?["application/json"]?["schema"]
        #expect(body?["required"] == ["targetRef"])
        #expect(body?["additionalProperties"] == false)
        #expect(body?["properties"]?["targetRef"] == ["type": "string", "maxLength": 255])
        #expect(body?["properties"]?["forceInvalidate"] == ["type": "boolean", "default": false])
        #expect(launch["responses"]?["202"] == .ref("responses", "Accepted"))
        let show = try Self.operation(document, "GET", "/api/v1/admin/docs/publish/{id}")
        #expect(show["operationId"] == "showDocsPublishRun")
        #expect(Self.schema(show, 404)?["allOf"] != nil)
    }

    @Test func operationIdsAreUnique() throws {
        let document = try Self.document(Self.seeds())
        let ids = (document["paths"]?.members ?? []).flatMap { path in
            path.value.members.compactMap { $0.value["operationId"]?.string }
        }
        #expect(Set(ids).count == ids.count, "\(ids)")
    }
}
