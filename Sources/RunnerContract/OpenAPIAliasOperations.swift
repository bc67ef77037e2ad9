import RunnerCore

/// The two operations of a pipeline's `triggers.api` route, in the runner's own shapes: `POST`
/// takes the flat object of params (each as declared) and answers as `launchRun` does; `GET
/// /{id}` shows one of the pipeline's runs, another pipeline's or an unknown id answering its
/// `not_found_error`.
struct OpenAPIAliasOperations {
    var pipeline: Pipeline

    private var name: String { pipeline.name.value }
    var launchID: [String] { ["launch" + OpenAPIGenerator.camelCase([name])] }
    var showID: [String] { ["show" + OpenAPIGenerator.camelCase([name]) + "Run"] }

    func launch(id: String) -> OpenAPIJSON {
        var operation = header(id, summary: "\(name): launch a run, the body its params (`triggers.api`).",
                               role: "operator")
        operation["parameters"] = .array(OpenAPIContractOperation.launchHeaders(pipeline))
        if let body = OpenAPIRequestBody.schema(pipeline, route: nil) {
            operation["requestBody"] = ["required": .bool(body.isRequired),
                                        "content": ["application/json": ["schema": body.schema]]]
        }
        var responses: OpenAPIJSON = ["202": .ref("responses", "Accepted")]
        let onConflict = pipeline.concurrency?.onConflict
        if onConflict == .skip { responses["200"] = .ref("responses", "Skipped") }
        let codes = pipeline.params.compactMap(\.errorCode?.value)
            + ["RUN2101", "RUN2102", "RUN2103", "RUN6001", "RUN6010"]
            + (pipeline.idempotency?.isRequired == true
                ? [pipeline.idempotency?.errorCode?.value ?? IdempotencyPolicy.defaultErrorCode] : [])
        responses["400"] = ["description": .string("A body, key or params the launch refuses: \(Self.list(codes))."),
                            "content": ["application/json": ["schema": .ref("schemas", "Error")]]]
        responses["401"] = .ref("responses", "Unauthorized")
        responses["403"] = .ref("responses", "Forbidden")
        responses["409"] = onConflict == nil || onConflict == .reject
            ? .ref("responses", "LaunchConflict")
            : ["description": "`RUN6009` only: the first request with this Idempotency-Key is still being answered.",
               "content": ["application/json": ["schema": .ref("schemas", "IdempotencyKeyInFlightError")]]]
        responses["413"] = .ref("responses", "BodyTooLarge")
        if pipeline.idempotency?.scope ?? .key == .key { responses["422"] = .ref("responses", "IdempotencyKeyReused") }
        responses["500"] = .ref("responses", "StateUnavailable")
        operation["responses"] = responses
        return operation
    }

    func show(id: String) -> OpenAPIJSON {
        var operation = header(id, summary: "\(name): one of its runs.", role: "viewer")
        operation["parameters"] = [.ref("parameters", "RunIdPath")]
        let notFound = pipeline.triggers.api?.notFoundErrorCode?.value ?? APITrigger.defaultNotFoundErrorCode
        operation["responses"] = [
            "200": .ref("responses", "Run"),
            "401": .ref("responses", "Unauthorized"),
            "404": ["description": .string("`\(notFound)`: no such run, or one of another pipeline."),
                    "content": ["application/json": ["schema": [
                        "allOf": [.ref("schemas", "Error"),
                                  ["properties": ["code": ["enum": [.string(notFound), "RUN6003"]]]]]]]]],
            "413": .ref("responses", "BodyTooLarge"),
        ]
        return operation
    }

    private func header(_ id: String, summary: String, role: String) -> OpenAPIJSON {
        var operation: OpenAPIJSON = ["operationId": .string(id), "tags": ["pipeline routes"],
                                      "summary": .string(summary)]
        if let description = pipeline.description { operation["description"] = .string(description) }
        operation["x-required-role"] = .string(role)
        operation["x-pipeline"] = .string(name)
        return operation
    }

    /// `A`, `B`, `C` without repeats.
    static func list(_ codes: [String]) -> String {
        OpenAPIGenerator.distinct(codes).map { "`\($0)`" }.joined(separator: ", ")
    }
}
