import FoundationEssentials
import RunnerContract
import RunnerCore
import RunnerYAML
import Testing

/// Params read from nested bodies, lists of objects, path parameters; what a body of the
/// wrong shape answers (never a crash, never a launch).
@Suite struct RequestMappingTests {
    static func route(_ mapping: String, unknown: String = "reject") throws -> ContractRoute {
        let yaml = """
            version: 1
            name: promote
            params:
              pipeline_id: {type: string}
              source_app: {type: string, required: true}
              targets: {type: list, items: string, required: true}
              jobId: {type: string}
            api:
              routes:
                - method: POST
                  path: /pipeline-promotions/{jobId}
                  operation: launch
                  unknown_fields: \(unknown)
                  params: \(mapping)
            steps:
              - name: work
                run: echo work
            """
        let result = PipelineLoader.load(bytes: Array(yaml.utf8), file: "p.yaml")
        let pipeline = try #require(result.pipeline, "\(result.diagnostics.map(\.message))")
        return try #require(pipeline.pipeline.contract?.routes.first)
    }

    static let heroku = "{pipeline_id: body.pipeline.id, source_app: body.source.app.id, targets: 'body.targets[*].app.id', "
        + "jobId: path.jobId}"

    static func map(_ route: ContractRoute, _ body: String, path: [String: String] = [:])
        -> Result<[String: Value], RequestMapping.Problem> {
        RequestMapping.params(route, body: Array(body.utf8), path: path, query: { _ in nil })
    }

    @Test func theNestedHerokuBody() throws {
        let route = try Self.route(Self.heroku)
        let body = #"{"pipeline":{"id":"p1"},"source":{"app":{"id":"s1"}},"targets":[{"app":{"id":"t1"}},{"app":{"id":"t2"}}]}"#
        let params = try Self.map(route, body).get()
        #expect(params == ["pipeline_id": .string("p1"), "source_app": .string("s1"),
                           "targets": .list([.string("t1"), .string("t2")])])
    }

    @Test func aMissingFieldIsLeftForTheRequiredCheck() throws {
        let route = try Self.route(Self.heroku)
        #expect(try Self.map(route, #"{"pipeline":{"id":"p1"}}"#).get() == ["pipeline_id": .string("p1")])
    }

    @Test(arguments: [
        (#"{"source": "s1"}"#, "source_app", "body.source must be an object with 'app', not a string"),
        (#"{"targets": {"app": {"id": "t"}}}"#, "targets", "body.targets must be a list, not an object"),
        (#"{"targets": [{"app": {}}]}"#, "targets", "body.targets[0] has no app.id"),
        (#"{"targets": [{"app": {"id": {"x": 1}}}]}"#, "targets", "body.targets[0].app.id must be a value, not an object"),
    ])
    func wrongShapesAreInvalidParams(body: String, param: String, message: String) throws {
        let route = try Self.route(Self.heroku)
        #expect(throws: RequestMapping.Problem(condition: .invalid, message: message, param: param)) {
            try Self.map(route, body).get()
        }
    }

    @Test func unknownFieldsAreRefusedOrIgnoredAsDeclared() throws {
        let body = #"{"source":{"app":{"id":"s1","name":"x"}},"extra":1}"#
        #expect(throws: RequestMapping.Problem(condition: .badRequest, message: "unknown field 'extra' in the body", param: nil)) {
            try Self.map(try Self.route(Self.heroku), body).get()
        }
        #expect(try Self.map(try Self.route(Self.heroku, unknown: "ignore"), body).get() == ["source_app": .string("s1")])
    }

    @Test(arguments: ["[1,2]", "\"text\"", "{not json", "null"])
    func aBodyThatIsNotAnObjectIsABadRequest(body: String) throws {
        let route = try Self.route(Self.heroku)
        guard case .failure(let problem) = Self.map(route, body) else { Issue.record("accepted \(body)"); return }
        #expect(problem.condition == .badRequest)
    }

    @Test func pathParametersAndAnEmptyBody() throws {
        let route = try Self.route("{jobId: path.jobId, source_app: body.source, targets: body.targets}")
        #expect(try Self.map(route, "", path: ["jobId": "j1"]).get() == ["jobId": .string("j1")])
    }
}
