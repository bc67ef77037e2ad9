import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// A contract launch's answer is rendered about the run as recorded, step records included:
/// a template looping over steps shows them (seed 000's POST answers the GET's shape).
@Suite struct ContractLaunchAnswerTests {
    static let jobs = """
        version: 1
        name: jobs
        params:
          dir: {type: string, required: true}
        api:
          routes:
            - method: POST
              path: /jobs
              operation: launch
              params: {dir: body.dir}
              response: {jobId: run.id, steps: {for_each: steps, item: {name: step.name, state: step.state}}}
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
}
