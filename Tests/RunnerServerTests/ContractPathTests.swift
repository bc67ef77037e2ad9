import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// A contract answers in its own shape what reaches its routes: a launch's answer shows the
/// run's step records, and a path below a route that no route takes (a `%2F` libmicrohttpd
/// decoded into a parameter) is the contract's `bad_request`, not the runner's 404.
@Suite struct ContractPathTests {
    static let jobs = """
        version: 1
        name: jobs
        params:
          dir: {type: string, required: true}
        api:
          error_body: {errorMessage: error.message}
          routes:
            - method: POST
              path: /jobs
              operation: launch
              params: {dir: body.dir}
              response: {jobId: run.id, steps: {for_each: steps, item: {name: step.name, state: step.state}}}
            - {method: GET, path: "/jobs/status/{jobId}", operation: show, response: {jobId: run.id}}
        steps:
          - {name: first, run: "true"}
          - {name: second, needs: [first], run: "true"}
        """

    @Test func aLaunchsAnswerShowsTheStepRecordsCreatedWithTheRun() throws {
        let s = try InProcessServer(pipelines: ["jobs.yaml": Self.jobs])
        let launched = s.request("POST", "/jobs", as: .operator, body: #"{"dir": "d"}"#)
        #expect(launched.status == 202)
        let steps = try #require(launched.json?["steps"] as? [[String: String]])
        #expect(steps.map { $0["name"] } == ["first", "second"])
        #expect(steps.allSatisfy { ["queued", "running", "succeeded"].contains($0["state"] ?? "") })
    }

    @Test func aPathBelowAContractRouteIsTheContractsBadRequest() throws {
        let s = try InProcessServer(pipelines: ["jobs.yaml": Self.jobs])
        for path in ["/jobs/status/a/b", "/jobs/status/../../x", "/jobs/status/", "/jobs/status/x/"] {
            let answer = s.request("GET", path)
            #expect(answer.status == 400, "\(path)")
            #expect((answer.json?["errorMessage"] as? String)?.hasPrefix("no route \(path)") == true, "\(path)")
            #expect(answer.json?["code"] == nil, "the contract's shape, not the runner's")
        }
        #expect(s.request("GET", "/jobs/status/nope").status == 404, "one segment: the route, an unknown run")
        let refused = s.request("GET", "/jobs/status/a/b", as: nil)
        #expect(refused.status == 401 && refused.json?["errorMessage"] != nil,
                "a refused token in the contract's shape too")
        // Outside the contract's paths, and other methods, the runner's own answers stay.
        #expect(s.request("GET", "/jobs/x").code == "RUN6003")
        #expect(s.request("DELETE", "/jobs/status/a/b", as: .operator).code == "RUN6003")
        #expect(s.request("GET", "/api/v1/runs/a/b").code == "RUN6003")
    }

    /// `/jobs/status/{id}` is the route `/jobs/status/{jobId}` to the router: the later
    /// pipeline's is left out with a diagnostic, not served unreachable.
    @Test func routesDifferingOnlyInParameterNamesClash() throws {
        let other = Self.jobs.replacing("name: jobs", with: "name: other").replacing("{jobId}", with: "{id}")
            .replacing("path: /jobs\n", with: "path: /other\n")
        let s = try InProcessServer(pipelines: ["jobs.yaml": Self.jobs, "other.yaml": other])
        let problems = s.api.reload()
        #expect(problems.map(\.file).map { URL(fileURLWithPath: $0).lastPathComponent } == ["other.yaml"])
        #expect(problems.first?.diagnostics.first?.message.contains("also taken by pipeline 'jobs'") == true,
                "\(problems)")
    }

    @Test func theLongestPrefixAnswersAndRoutesComeFirst() {
        var r = Router()
        let refusal: @Sendable (APIServer.AccessRefusal, HTTPRequest) -> HTTPResponse = { _, _ in
            HTTPResponse(status: 401, body: [])
        }
        for (prefix, status) in [("/a", 1), ("/a/b", 2)] {
            r.add("GET", prefix + "/*", under: prefix, access: .role(.viewer), basic: false, refusal: refusal) { _, _ in
                HTTPResponse(status: status, body: [])
            }
        }
        r.add("GET", "/a/b/{id}") { _, _ in HTTPResponse(status: 200, body: []) }
        func status(_ method: String, _ path: String) -> Int? {
            guard case .found(let route, let captures) = r.match(method: method, path: path) else { return nil }
            return route.handler(HTTPRequest(method: method, path: path), captures).status
        }
        #expect(status("GET", "/a/b/7") == 200)
        #expect(status("GET", "/a/b/7/8") == 2 && status("HEAD", "/a/b/") == 2)
        #expect(status("GET", "/a/c") == 1 && status("GET", "/a/b") == 1)
        #expect(status("GET", "/a") == nil && status("POST", "/a/b/7/8") == nil && status("GET", "/ab/c") == nil)
        #expect(r.match(method: "GET", path: "/a/b/7/8").access(method: "GET") == .role(.viewer))
    }
}
