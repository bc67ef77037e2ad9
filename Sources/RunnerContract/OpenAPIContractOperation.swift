import RunnerCore

/// One contract endpoint as an OpenAPI operation: its path parameters (a selector's values as
/// an enum), query and header parameters, a launch's body from its `params` mapping, the
/// success body from the `response` template, and every answer its errors can give
/// (`OpenAPIContractOperation+Errors`). Several entries share an endpoint through a selector:
/// their answers are joined, status by status.
struct OpenAPIContractOperation {
    var entries: [(pipeline: Pipeline, route: ContractRoute)]

    private var route: ContractRoute? { entries.first?.route }
    var operation: ContractOperation { route?.operation.value ?? .show }
    var pipelineNames: [String] { entries.map(\.pipeline.name.value) }
    var role: String { operation == .show || operation == .list ? "viewer" : "operator" }

    /// `showBackupRestore`, then with the path's words, then numbered.
    var idCandidates: [String] {
        let first = operation.rawValue + OpenAPIGenerator.camelCase(pipelineNames)
        let words = (route?.segments ?? []).compactMap { if case .literal(let word) = $0 { word } else { nil } }
        return [first, first + OpenAPIGenerator.camelCase(words)]
    }

    func json(id: String, links: OpenAPIJSON? = nil) -> OpenAPIJSON {
        let names = pipelineNames.joined(separator: ", ")
        let places = entries.map { OpenAPIGenerator.place($0.route.location) }.joined(separator: ", ")
        var json: OpenAPIJSON = [
            "operationId": .string(id), "tags": ["contract routes"],
            "summary": .string("\(names): \(operation.rawValue) (`api.routes`)"),
            "description": .string("Declared at \(places)."),
            "x-required-role": .string(role),
            "x-operation": .string(operation.rawValue),
            "x-pipelines": .array(pipelineNames.map(OpenAPIJSON.string)),
        ]
        json["parameters"] = .array(parameters)
        if operation == .launch, let body = requestBody { json["requestBody"] = body }
        json["responses"] = responses
        if let links, let status = route?.successStatus { json["responses"]?[String(status)]?["links"] = links }
        return json
    }

    /// A launch's links to the routes that show, cancel or retry the run it answers (its id
    /// where the response writes `run.id`): what a client, and schemathesis, does next.
    func links(to others: [(operation: OpenAPIContractOperation, id: String)]) -> OpenAPIJSON? {
        guard operation == .launch else { return nil }
        var links: [OpenAPIJSON.Member] = []
        for (pipeline, route) in entries {
            guard let idPointer = Self.runIDPointer(route.response) else { continue }
            for other in others where [.show, .cancel, .retry].contains(other.operation.operation) {
                let name = pipeline.name.value
                guard let target = other.operation.entries.first(where: { $0.pipeline.name.value == name }),
                      let runParameter = target.route.runParameter else { continue }
                var parameters: OpenAPIJSON = [runParameter: .string("$response.body#" + idPointer)]
                if let selector = target.route.selector { parameters[selector.name] = .string(selector.value) }
                // A path parameter it could not be given: no link.
                guard target.route.parameterNames.count == parameters.members.count,
                      !links.contains(where: { $0.key == other.id }) else { continue }
                links.append(.init(key: other.id, value: ["operationId": .string(other.id), "parameters": parameters]))
            }
        }
        return links.isEmpty ? nil : .object(links)
    }

    /// The JSON pointer of the run's id in a launch's answer: the runner's own `id`, or the
    /// top-level key whose template is `run.id`.
    static func runIDPointer(_ response: ContractTemplate?) -> String? {
        guard let response else { return "/id" }
        guard case .object(let members) = response else { return nil }
        let key = members.first {
            if case .value(let expression) = $0.value, case .reference(.field(["run", "id"])) = expression.root.kind {
                return true
            }
            return false
        }?.key
        return key.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }
    }

    // MARK: - Parameters

    private var parameters: [OpenAPIJSON] {
        guard let route, let first = entries.first else { return [] }
        var parameters: [OpenAPIJSON] = []
        for segment in route.segments {
            switch segment {
            case .literal: continue
            case .selector(let name, _):
                let values = entries.compactMap { $0.route.selector?.value }
                parameters.append(["name": .string(name), "in": "path", "required": true,
                                   "description": .string("Which pipeline: " + OpenAPIAliasOperations.list(values)
                                                          + "; another value is the contract's `bad_request`."),
                                   "schema": ["type": "string", "enum": .array(values.map(OpenAPIJSON.string))]])
            case .parameter(let name):
                parameters.append(parameter(name, in: "path", isRequired: true, first.pipeline))
            }
        }
        for (name, source) in route.params {
            if case .query(let query) = source.value, let spec = first.pipeline.param(named: name.value) {
                parameters.append(parameter(query, in: "query", isRequired: spec.isRequired && spec.defaultValue == nil,
                                            first.pipeline))
            }
        }
        if operation == .list {
            parameters.append(["name": "limit", "in": "query",
                               "description": "At most this many runs, newest first (50).",
                               "schema": ["type": "integer", "minimum": 1, "maximum": 1000]])
        }
        if operation == .launch { parameters += Self.launchHeaders(first.pipeline) }
        return parameters
    }

    /// A path or query parameter: a launch param's own schema where the route maps one to it
    /// and the value is text; the run's id otherwise.
    private func parameter(_ name: String, in place: String, isRequired: Bool, _ pipeline: Pipeline) -> OpenAPIJSON {
        let source: RequestSource = place == "path" ? .path(name) : .query(name)
        let spec = route?.params.first { $0.source.value == source }.flatMap { pipeline.param(named: $0.name.value) }
        var schema: OpenAPIJSON = ["type": "string", "minLength": 1]
        var description = "The run's id."
        if let spec {
            description = "Param `\(spec.name.value)`."
            switch spec.kind {
            case .string, .enumeration, .gitref, .path, .timestamp: schema = OpenAPIParamSchema.request(spec.kind)
            case .int, .number, .bool, .list: break
            }
        }
        return ["name": .string(name), "in": .string(place), "required": .bool(isRequired),
                "description": .string(description), "schema": schema]
    }

    /// The headers a launch reads: its Idempotency-Key (required where the pipeline says so)
    /// and the trace ids the audit log records.
    static func launchHeaders(_ pipeline: Pipeline) -> [OpenAPIJSON] {
        let key = pipeline.idempotency?.isRequired == true ? "IdempotencyKeyRequired" : "IdempotencyKey"
        return [.ref("parameters", key), .ref("parameters", "Traceparent"), .ref("parameters", "RequestId")]
    }

    private var requestBody: OpenAPIJSON? {
        let bodies = entries.compactMap { OpenAPIRequestBody.schema($0.pipeline, route: $0.route) }
        let schemas = OpenAPIGenerator.distinct(bodies.map(\.schema))
        let isRequired = bodies.contains { $0.isRequired }
        guard !schemas.isEmpty else { return nil }
        let schema: OpenAPIJSON = schemas.count == 1 ? schemas[0] : ["anyOf": .array(schemas)]
        return ["required": .bool(isRequired), "content": ["application/json": ["schema": schema]]]
    }

    // MARK: - Responses

    /// One answer: its status, what it is, its body's schema.
    struct Answer {
        var status: Int
        var description: String
        var schema: OpenAPIJSON
        var headers: OpenAPIJSON?
    }

    private var responses: OpenAPIJSON {
        var answers: [Answer] = []
        for entry in entries {
            answers.append(success(entry.pipeline, entry.route))
            answers += errorAnswers(entry.pipeline, entry.route)
        }
        // Checked before any route: the runner's own answer.
        var responses: [(status: Int, response: OpenAPIJSON)] = [(413, .ref("responses", "BodyTooLarge"))]
        for status in Set(answers.map(\.status)) where status != 413 {
            let same = answers.filter { $0.status == status }
            let schemas = OpenAPIGenerator.distinct(same.map(\.schema))
            let descriptions = OpenAPIGenerator.distinct(same.map(\.description))
            var response: OpenAPIJSON = ["description": .string(descriptions.joined(separator: " "))]
            if let headers = same.compactMap(\.headers).first { response["headers"] = headers }
            let schema: OpenAPIJSON = schemas.count == 1 ? schemas[0] : ["anyOf": .array(schemas)]
            response["content"] = ["application/json": ["schema": schema]]
            responses.append((status, response))
        }
        return .object(responses.sorted { $0.status < $1.status }.map {
            .init(key: String($0.status), value: $0.response)
        })
    }

    private func success(_ pipeline: Pipeline, _ route: ContractRoute) -> Answer {
        let schema: OpenAPIJSON
        if let template = route.response {
            let facts = OpenAPITemplateSchema(contract: contract(pipeline), pipeline: pipeline, hasRun: true,
                                              paramsAreDeclared: true, pathParameters: Set(route.parameterNames))
            schema = facts.schema(template)
        } else {
            schema = .ref("schemas", operation == .list ? "RunPage" : "Run")
        }
        let what: String = switch operation {
        case .launch: "The run is recorded (or replayed for the same Idempotency-Key and body)."
        case .show: "The run."
        case .list: "The pipeline's runs, newest first."
        case .cancel: "The run, once it has ended or `cancel_wait` has passed."
        case .retry: "The new run."
        }
        let headers: OpenAPIJSON? = operation == .launch
            ? ["Idempotent-Replayed": .ref("headers", "Idempotent-Replayed")] : nil
        // Without a template a list is the runner's own answer, with its own status.
        let status = operation == .list && route.response == nil ? 200 : route.successStatus
        return Answer(status: status, description: what, schema: schema, headers: headers)
    }

    func contract(_ pipeline: Pipeline) -> APIContract {
        pipeline.contract ?? APIContract(location: pipeline.location)
    }
}
