import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// Contract routes served in process: selectors shared by two pipelines, routes two
/// pipelines both take, refusals in the contract's shape, Basic auth, nested bodies of the
/// wrong shape, `visibility: own`, and the Idempotency-Key's `payload` scope.
@Suite struct ContractRouteTests {
    static func jobs(_ kind: String, basic: Bool) -> String {
        """
        version: 1
        name: jobs-\(kind)
        params:
          name: {type: string, required: true, pattern: "[a-z]+", error: BAD_NAME}
          tags: {type: list, items: string}
        idempotency: {scope: payload}
        api:
          auth: \(basic ? "[bearer, basic]" : "bearer")
          visibility: own
          error_body: {errorMessage: error.message, code: error.code}
          errors:
            unauthorized: {body: {code: "'UNAUTHORIZED'", errorMessage: error.message}}
            not_found: {status: 404, body: {errorMessage: "'no job ' + request.path.jobId"}}
            BAD_NAME: {status: 400, body: {errorMessage: "'bad name:' + params.name", code: error.code, param: error.param}}
          routes:
            - method: POST
              path: /jobs/{kind=\(kind)}
              operation: launch
              status: 200
              params: {name: body.spec.name, tags: "body.items[*].tag"}
              response: {id: run.id, kind: request.path.kind, uid: run.actor}
            - method: GET
              path: /jobs/{kind=\(kind)}/{jobId}
              operation: show
              response: {id: run.id, name: params.name, tags: params.tags}
            - method: GET
              path: /jobs/{kind=\(kind)}
              operation: list
              response: {jobs: {for_each: runs, item: {id: run.id}}}
        steps:
          - {name: work, run: "true"}
        """
    }

    static func other(_ name: String) -> String {
        """
        version: 1
        name: \(name)
        api:
          routes:
            - {method: GET, path: "/other/{id}", operation: show}
        steps:
          - {name: work, run: "true"}
        """
    }

    static func server() throws -> InProcessServer {
        try InProcessServer(pipelines: ["a.yaml": jobs("a", basic: true), "b.yaml": jobs("b", basic: false),
                                        "c.yaml": other("other-c"), "d.yaml": other("other-d")])
    }

    static let spec = #"{"spec": {"name": "abc"}, "items": [{"tag": "x"}, {"tag": "y"}]}"#

    @Test func aSelectorPicksThePipelineAndAnUnknownValueIsTheContractsBadRequest() throws {
        let s = try Self.server()
        let a = s.request("POST", "/jobs/a", as: .operator, body: Self.spec)
        #expect(a.status == 200, "\(String(decoding: a.body, as: UTF8.self))")
        #expect(a.json?["kind"] as? String == "a" && a.json?["uid"] as? String == "test-operator")
        let id = try #require(a.json?["id"] as? String)
        #expect(try s.store.load(RunID(id))?.run.pipeline == "jobs-a")
        #expect(s.request("POST", "/jobs/b", as: .operator, body: Self.spec).status == 200)
        let unknown = s.request("POST", "/jobs/zzz", as: .operator, body: Self.spec)
        #expect(unknown.status == 400)
        #expect(unknown.json?["errorMessage"] as? String == "unknown kind 'zzz': one of a, b")
        #expect(try s.store.runs(RunQuery(limit: 100)).count == 2, "nothing launched")
    }

    @Test func aPipelineShowsItsContractsRoutes() throws {
        let s = try Self.server()
        let routes = s.request("GET", "/api/v1/pipelines/jobs-a").json?["routes"] as? [[String: String]]
        #expect(routes?.map { "\($0["method"] ?? "") \($0["path"] ?? "") \($0["operation"] ?? "")" }
                == ["POST /jobs/{kind=a} launch", "GET /jobs/{kind=a}/{jobId} show", "GET /jobs/{kind=a} list"])
    }

    @Test func twoPipelinesTakingOnePathServeTheFirstAndReportTheOther() throws {
        let s = try Self.server()
        let problems = s.api.reload()
        let clash = problems.first { $0.file.hasSuffix("d.yaml") }?.diagnostics.first
        #expect(clash?.code == .duplicateRoute)
        #expect(clash?.message.contains("pipeline 'other-c'") == true, "\(clash?.message ?? "")")
        #expect(problems.count == 1, "\(problems)")
    }

    @Test func refusalsAreInTheContractsShape() throws {
        let s = try Self.server()
        let none = s.request("POST", "/jobs/a", as: nil, body: Self.spec)
        #expect(none.status == 401)
        #expect(none.json?["code"] as? String == "UNAUTHORIZED")
        #expect(none.header("WWW-Authenticate") != nil)
        let viewer = s.request("POST", "/jobs/a", as: .viewer, body: Self.spec)
        #expect(viewer.status == 403 && viewer.json?["errorMessage"] != nil && viewer.json?["code"] as? String == "RUN6007")
    }

    @Test func basicAuthTakesTheTokenAsItsPasswordWhereTheContractSaysSo() throws {
        let s = try Self.server()
        let token = try #require(s.tokens[.operator])
        let basic = "Basic " + Data("anyone:\(token)".utf8).base64EncodedString()
        let a = s.request("POST", "/jobs/a", as: nil, body: Self.spec, headers: ["Authorization": basic])
        #expect(a.status == 200)
        let b = s.request("POST", "/jobs/b", as: nil, body: Self.spec, headers: ["Authorization": basic])
        #expect(b.status == 401, "jobs-b takes Bearer only")
        let wrong = "Basic " + Data("anyone:rnr_0000000000000000_\(String(repeating: "0", count: 64))".utf8)
            .base64EncodedString()
        #expect(s.request("GET", "/jobs/a", as: nil, headers: ["Authorization": wrong]).status == 401)
        #expect(s.request("GET", "/jobs/a", as: nil, headers: ["Authorization": "Basic !!!"]).status == 401)
    }

    @Test(arguments: [
        (#"{"spec": "abc"}"#, 400, "BAD_NAME"),
        (#"{"spec": {"name": "abc"}, "items": {"tag": "x"}}"#, 400, "RUN2102"),
        (#"{"spec": {"name": "ABC"}}"#, 400, "BAD_NAME"),
        (#"{"spec": {"name": "abc"}, "extra": true}"#, 400, "RUN6001"),
        (#"[1, 2]"#, 400, "RUN6001"),
        (#"{}"#, 400, "BAD_NAME"),
    ])
    func badBodiesAreRefusedInTheContractsShapeAndLaunchNothing(body: String, status: Int, code: String) throws {
        let s = try Self.server()
        let answer = s.request("POST", "/jobs/a", as: .operator, body: body)
        #expect(answer.status == status, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(answer.json?["code"] as? String == code)
        #expect(answer.json?["errorMessage"] is String)
        #expect(try s.store.runs(RunQuery(limit: 100)).isEmpty)
    }

    /// libmicrohttpd decodes `%2F` before routing: `/jobs/a/x%2Fy` has one segment more than
    /// any route. Under a contract's paths the answer is still the contract's 404.
    @Test(arguments: ["/jobs/a/x/y", "/jobs/a/../etc", "/jobs/a/.."])
    func pathsNoRouteTakesUnderAContractAnswerInItsShape(path: String) throws {
        let s = try Self.server()
        let answer = s.request("GET", path, as: .operator)
        #expect(answer.status == 404)
        #expect(answer.json?["errorMessage"] is String, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(s.request("GET", "/elsewhere/x/y", as: .operator).code == "RUN6003", "elsewhere, the runner's own shape")
    }

    /// A `%2F` in the run's id reaches the router as a `/`: the show route's not-found still
    /// names the id as sent.
    @Test func anIdWithASlashIsNamedInTheShowRoutesNotFound() throws {
        let s = try Self.server()
        let answer = s.request("GET", "/jobs/a/x/y", as: .operator)
        #expect(answer.status == 404)
        #expect(answer.json?["errorMessage"] as? String == "no job x/y", "\(String(decoding: answer.body, as: UTF8.self))")
    }

    /// A param read from the path (or the query) is typed by its declaration, as `-p k=v` is.
    @Test func pathAndQueryParamsAreTypedByTheirDeclaration() throws {
        let counted = """
            version: 1
            name: counted
            params:
              count: {type: int, required: true, max: 10, error: BAD_COUNT}
              verbose: {type: bool, default: false}
            api:
              routes:
                - method: POST
                  path: /counted/{n}
                  operation: launch
                  params: {count: path.n, verbose: query.verbose}
                  response: {count: params.count, verbose: params.verbose}
            steps:
              - {name: work, run: "true"}
            """
        let s = try InProcessServer(pipelines: ["counted.yaml": counted])
        let three = s.request("POST", "/counted/3", as: .operator, query: ["verbose": "true"])
        #expect(three.status == 202, "\(String(decoding: three.body, as: UTF8.self))")
        #expect(three.json?["count"] as? Int == 3 && three.json?["verbose"] as? Bool == true)
        let word = s.request("POST", "/counted/three", as: .operator)
        #expect(word.status == 400 && word.code == "BAD_COUNT", "\(String(decoding: word.body, as: UTF8.self))")
        #expect(s.request("POST", "/counted/11", as: .operator).code == "BAD_COUNT")
    }

    /// An error template reads the params as sent: a value of the wrong type as its text.
    @Test func anErrorTemplateShowsAValueOfTheWrongTypeAsItsText() throws {
        let s = try Self.server()
        let answer = s.request("POST", "/jobs/a", as: .operator, body: #"{"spec": {"name": ["a", 1]}}"#)
        #expect(answer.status == 400)
        #expect(answer.json?["errorMessage"] as? String == #"bad name:["a", 1]"#,
                "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(answer.json?["param"] as? String == "name", "error.param names the param the launch refused")
    }

    @Test func aCallerSeesOnlyItsOwnRuns() throws {
        let s = try Self.server()
        let id = try #require(s.request("POST", "/jobs/a", as: .operator, body: Self.spec).json?["id"] as? String)
        let mine = s.request("GET", "/jobs/a/\(id)", as: .operator)
        #expect(mine.status == 200 && mine.json?["name"] as? String == "abc")
        #expect(mine.json?["tags"] as? [String] == ["x", "y"])
        let theirs = s.request("GET", "/jobs/a/\(id)", as: .admin)
        #expect(theirs.status == 404 && theirs.json?["errorMessage"] as? String == "no job \(id)")
        #expect(s.request("GET", "/jobs/b/\(id)", as: .operator).status == 404, "a run of the other pipeline")
        #expect((s.request("GET", "/jobs/a", as: .operator).json?["jobs"] as? [Any])?.count == 1)
        #expect((s.request("GET", "/jobs/a", as: .admin).json?["jobs"] as? [Any])?.count == 0)
    }

    @Test func aPayloadScopedKeyWithAnotherBodyIsAnotherRequest() throws {
        let s = try Self.server()
        func launch(_ body: String) -> HTTPResponse {
            s.request("POST", "/jobs/a", as: .operator, body: body, headers: ["Idempotency-Key": "k1"])
        }
        let first = launch(Self.spec)
        let again = launch(Self.spec)
        #expect(again.header("Idempotent-Replayed") == "true" && again.body == first.body)
        let other = launch(#"{"spec": {"name": "xyz"}}"#)
        #expect(other.status == 200 && other.json?["id"] as? String != first.json?["id"] as? String)
    }
}
