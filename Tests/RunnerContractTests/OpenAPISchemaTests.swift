import FoundationEssentials
import RunnerContract
import RunnerCore
import RunnerTestSupport
import RunnerYAML
import Testing

/// The schemas a contract route is described with: its body from the params mapping, its
/// answers from the templates — and what the renderer writes, in every state of a run, passing
/// them (`SchemaCheck`).
@Suite struct OpenAPISchemaTests {
    static let promotion = """
        version: 1
        name: promotion
        params:
          source_app: {type: string, required: true, pattern: "[a-z][a-z0-9-]{2,29}", error: INVALID_APP}
          targets:
            type: list
            items: {type: string}
            required: true
            min_items: 1
            unique: true
          note: {type: string}
          dry: {type: bool, default: false}
        api:
          time_format: "yyyy-MM-dd'T'HH:mm:ss'Z'"
          statuses:
            run: {queued: pending, running: pending, waiting: pending, rollback_pending: pending,
                  succeeded: completed, failed: completed, partial: completed, cancelled: completed,
                  rolled_back: completed, skipped: completed}
          routes:
            - method: POST
              path: /pipeline-promotions
              operation: launch
              status: 201
              params:
                {source_app: body.source.app.id, targets: "body.targets[*].app.id", note: query.note, dry: body.dry}
              response:
                id: run.id
                status: run.status
                source: {app: {id: params.source_app}}
                created_at: run.created_at
                updated_at: run.updated_at
                finished: "run.finished_at ?? 'never'"
                note: "params.note"
                progress: "run.state == 'running' ? run.progress : null"
                label: "'promotion ' + run.id"
                pair: [run.retryable, 1]
            - method: POST
              path: /pipeline-promotions/lenient
              operation: launch
              unknown_fields: ignore
              params: {source_app: body.source_app, targets: body.targets}
            - method: GET
              path: /pipeline-promotions/{id}/promotion-targets
              operation: show
              response:
                for_each: steps.promote
                item: {app: {id: step.item}, status: step.status, error: step.error_message}
        steps:
          - name: promote
            for_each: params.targets
            run: echo $ITEM
        """

    static func document() throws -> (OpenAPIJSON, Pipeline) {
        let pipeline = try OpenAPIGeneratorTests.load(promotion, file: "promotion.yaml")
        return (try OpenAPIGeneratorTests.document([pipeline]), pipeline)
    }

    @Test func aNestedBodyFromTheParamsMapping() throws {
        let (document, _) = try Self.document()
        let launch = try OpenAPIGeneratorTests.operation(document, "POST", "/pipeline-promotions")
        let body = try #require(launch["requestBody"]?["content"]?["application/json"]?["schema"])
        #expect(launch["requestBody"]?["required"] == true)
        #expect(body["required"] == ["source", "targets"], "dry has a default, note comes from the query")
        #expect(body["additionalProperties"] == false)
        let source = body["properties"]?["source"]
        #expect(source?["required"] == ["app"])
        let id: OpenAPIJSON = ["type": "string", "pattern": "^(?:[a-z][a-z0-9-]{2,29})$"]
        #expect(source?["properties"]?["app"]?["properties"]?["id"] == id)
        let targets = try #require(body["properties"]?["targets"])
        #expect(targets["type"] == "array")
        #expect(targets["minItems"] == 1)
        #expect(targets["uniqueItems"] == true)
        #expect(targets["items"]?["required"] == ["app"], "every item must hold app.id")
        #expect(targets["items"]?["properties"]?["app"]?["properties"]?["id"] == ["type": "string"])
        #expect(body["properties"]?["dry"] == ["type": "boolean", "default": false])
        let parameters = launch["parameters"]?.items ?? []
        let note = parameters.first { $0["name"] == "note" }
        #expect(note?["in"] == "query")
        #expect(note?["required"] == false)
    }

    @Test func unknownFieldsIgnoredLeaveTheBodyOpen() throws {
        let (document, _) = try Self.document()
        let launch = try OpenAPIGeneratorTests.operation(document, "POST", "/pipeline-promotions/lenient")
        let body = try #require(launch["requestBody"]?["content"]?["application/json"]?["schema"])
        #expect(body["additionalProperties"] == nil)
        #expect(body["properties"]?["targets"]?["items"] == ["type": "string"], "a list param read whole")
        #expect(OpenAPIGeneratorTests.schema(launch, 202) == .ref("schemas", "Run"), "no template: the run's own JSON")
    }

    @Test func answersTypedFromTheirExpressions() throws {
        let (document, _) = try Self.document()
        let launch = try OpenAPIGeneratorTests.operation(document, "POST", "/pipeline-promotions")
        let answer = try #require(OpenAPIGeneratorTests.schema(launch, 201))
        let properties = try #require(answer["properties"])
        #expect(properties["status"] == ["type": "string", "enum": ["pending", "completed"]])
        let time = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
        #expect(properties["created_at"] == ["type": "string", "pattern": .string(time)])
        #expect(properties["finished"]?["type"] == "string", "?? with a string never gives null")
        #expect(properties["note"]?["type"] == ["string", "null"], "an optional param without a default")
        #expect(properties["progress"] == ["type": ["integer", "null"], "minimum": 0, "maximum": 100])
        #expect(properties["label"] == ["type": "string"])
        #expect(properties["source"]?["properties"]?["app"]?["required"] == ["id"])
        let one: OpenAPIJSON = ["type": "integer", "enum": [1], "minimum": 1, "maximum": 1]
        #expect(properties["pair"]?["prefixItems"] == [["type": "boolean"], one])
        let path = "/pipeline-promotions/{id}/promotion-targets"
        let targets = try OpenAPIGeneratorTests.operation(document, "GET", path)
        let item = OpenAPIGeneratorTests.schema(targets, 200)?["items"]
        #expect(item?["properties"]?["status"]?["enum"] == .array(StepStatus.allCases.map { .string($0.rawValue) }))
        #expect(item?["properties"]?["error"]?["type"] == ["string", "null"])
        #expect(OpenAPIGeneratorTests.schema(targets, 404) == .ref("schemas", "ContractError"), "no body declared")
    }

    /// Every route of every seed contract, rendered over runs in every state (with and without
    /// steps, as a launch answers before any ran), passes the schema the document gives it.
    @Test func whatTheRendererWritesPassesTheSchema() throws {
        let seeds = try OpenAPIGeneratorTests.seeds() + [Self.document().1]
        let document = try OpenAPIGeneratorTests.document(seeds)
        let check = SchemaCheck(document: document)
        var rendered = 0
        for pipeline in seeds {
            guard let contract = pipeline.contract else { continue }
            let renderer = ContractRenderer(contract: contract)
            for route in contract.routes {
                guard let response = route.response else { continue }
                let path = "/" + route.segments.map(\.routePattern).joined(separator: "/")
                let operation = try OpenAPIGeneratorTests.operation(document, route.method.value, path)
                let schema = try #require(OpenAPIGeneratorTests.schema(operation, route.successStatus))
                let values = Dictionary(uniqueKeysWithValues: route.parameterNames.map { ($0, "x") })
                let request = RequestFacts(actor: "alice", method: route.method.value, path: values)
                for facts in Self.runs(of: pipeline) {
                    let bytes = route.operation.value == .list
                        ? renderer.render(response, request: request, runs: [facts, facts])
                        : renderer.render(response, request: request, run: facts)
                    let json = try #require(JSONValue.parse(bytes))
                    let problems = check.problems(json, schema)
                    #expect(problems.isEmpty, "\(pipeline.name.value) \(path) \(facts.stored.run.status): \(problems)")
                    rendered += 1
                }
            }
        }
        #expect(rendered > 100)
    }

    /// The error bodies of the seed contracts, for a launch refused with its params as the
    /// request gave them — even a list where a path was declared.
    @Test func errorBodiesPassTheirSchema() throws {
        let seeds = try OpenAPIGeneratorTests.seeds()
        let document = try OpenAPIGeneratorTests.document(seeds)
        let check = SchemaCheck(document: document)
        for pipeline in seeds {
            guard let contract = pipeline.contract,
                  let launch = contract.routes.first(where: { $0.operation.value == .launch }) else { continue }
            let path = "/" + launch.segments.map(\.routePattern).joined(separator: "/")
            let operation = try OpenAPIGeneratorTests.operation(document, "POST", path)
            let param = pipeline.params.first?.name.value
            for given in [Value.string("../up"), .list([.null]), .int(3)] {
                let params = Dictionary(uniqueKeysWithValues: pipeline.params.map { ($0.name.value, given) })
                for code in pipeline.params.compactMap(\.errorCode?.value) + ["RUN2102"] {
                    let answer = contract.answer(for: .invalid, code: code)
                    let status = answer?.status?.value ?? 400
                    guard let body = answer?.body ?? contract.errorBody else { continue }
                    let bytes = ContractRenderer(contract: contract).render(
                        body, request: RequestFacts(actor: "alice", method: "POST", params: params),
                        error: ErrorFacts(status: status, code: code, message: "invalid", param: param))
                    let schema = try #require(OpenAPIGeneratorTests.schema(operation, status), "\(path): \(status)")
                    let problems = check.problems(try #require(JSONValue.parse(bytes)), schema)
                    #expect(problems.isEmpty, "\(pipeline.name.value) \(code) \(given): \(problems)")
                }
            }
        }
    }

    /// Runs of `pipeline` in every state: without steps (a launch's answer), and with a record
    /// per step (two instances of a for_each step) carrying every declared output.
    static func runs(of pipeline: Pipeline) -> [RunFacts] {
        let created = Date(timeIntervalSince1970: 1_765_111_775.123)
        var facts: [RunFacts] = []
        for status in RunStatus.allCases {
            var run = RunRecord(id: RunID("20251207-123935-00abcd"), pipeline: pipeline.name.value,
                                pipelineFile: "p.yaml", definition: "", trigger: .api, params: [:], parallelism: 1,
                                createdAt: created)
            run.status = status
            run.actor = "alice"
            run.params = Dictionary(uniqueKeysWithValues: pipeline.params.compactMap { spec in
                let value = spec.defaultValue?.value ?? (spec.isRequired ? sample(spec.kind) : nil)
                return value.map { (spec.name.value, $0) }
            })
            if status.isTerminal {
                run.startedAt = created.addingTimeInterval(0.5)
                run.finishedAt = created.addingTimeInterval(2)
            }
            if status == .failed { (run.errorCode, run.errorMessage) = ("FAILED", "it failed") }
            var steps: [StepRecord] = []
            for step in pipeline.allSteps {
                for item in step.forEach == nil ? [nil] : ["a", "b"] as [String?] {
                    let name = StepName(step.name.value + (item.map { "[\($0)]" } ?? ""))
                    var record = StepRecord(name: name, step: step.name.value, item: item, section: "main",
                                            position: steps.count)
                    record.status = status == .succeeded ? .succeeded : .running
                    record.progress = 50
                    for output in step.outputs { record.outputs[output.value] = "out" }
                    steps.append(record)
                }
            }
            for records in [[], steps] {
                facts.append(RunFacts(stored: StoredRun(run: run, steps: records, attempts: []),
                                      retryable: status == .failed, progress: 40,
                                      progressMessage: status == .running ? "half" : nil))
            }
        }
        return facts
    }

    private static func sample(_ kind: ParamKind) -> Value {
        switch kind {
        case .int: .int(1)
        case .number: .number(1.5)
        case .bool: .bool(true)
        case .enumeration(let values): .string(values.first ?? "")
        case .list(let rules): .list([sample(rules.items)])
        case .string, .timestamp, .gitref, .path: .string("x")
        }
    }
}
