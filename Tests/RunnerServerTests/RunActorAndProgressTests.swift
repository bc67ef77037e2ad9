import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// The API records the token's name as the run's actor and shows it, and shows a run's
/// overall progress weighed as its own definition declares.
@Suite struct RunActorAndProgressTests {
    static let weighted = """
        version: 1
        name: weighted
        progress:
          weights: {build: 1, deploy: 3}
        steps:
          - {name: build, run: "true"}
          - {name: deploy, needs: [build], run: "true"}
          - {name: notify, needs: [deploy], run: "true"}
        """

    @Test func anAPILaunchRecordsTheTokensNameAndShowsIt() throws {
        let s = try InProcessServer()
        let launched = s.request("POST", "/api/v1/pipelines/hello/runs", as: .operator, body: "{}")
        #expect(launched.status == 202)
        let id = try #require(launched.json?["run_id"] as? String)
        #expect(try s.store.load(RunID(id))?.run.actor == "test-operator")
        let shown = s.request("GET", "/api/v1/runs/\(id)")
        #expect(shown.json?["actor"] as? String == "test-operator")
        let listed = s.request("GET", "/api/v1/runs").json?["runs"] as? [[String: Any]]
        #expect(listed?.first?["actor"] as? String == "test-operator")
        #expect(listed?.first?["progress"] == nil, "lists come without steps, so without progress")
    }

    /// build done, deploy at 50 % with a message, notify queued.
    func record(_ s: InProcessServer, _ id: String, definition: String) throws -> RunID {
        let at = Date(timeIntervalSince1970: 1_767_225_600)
        let run = RunRecord(id: RunID(id), pipeline: "weighted", pipelineFile: "weighted.yaml", definition: definition,
                            trigger: .api, params: [:], parallelism: 1, createdAt: at)
        let steps = ["build", "deploy", "notify"].enumerated().map { n, name in
            StepRecord(name: StepName(name), step: name, item: nil, section: "main", position: n)
        }
        try s.store.createRun(run, steps: steps)
        func step(_ name: String, _ status: StepStatus) -> StoreChange {
            .stepStatus(StepName(name), status, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil,
                        at: at)
        }
        try s.store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: at),
                           step("build", .running), step("build", .succeeded), step("deploy", .running),
                           .progress(StepName("deploy"), percent: 50, message: "deploying 50%")], to: run.id)
        return run.id
    }

    func progress(_ s: InProcessServer, _ id: RunID) -> (Int?, String?) {
        let json = s.request("GET", "/api/v1/runs/\(id)").json
        return (json?["progress"] as? Int, json?["progress_message"] as? String)
    }

    @Test func aRunsProgressIsWeighedByItsOwnDefinition() throws {
        let s = try InProcessServer(pipelines: ["weighted.yaml": Self.weighted])
        // The loaded pipeline's weights: (100·1 + 50·3) / 4.
        let current = try record(s, "20260101-000000-000001", definition: Self.weighted)
        #expect(progress(s, current) == (62, "deploying 50%"))
        // A run of an earlier version of the file: the weights its definition declared, (100·3 + 50) / 4.
        let earlier = Self.weighted.replacing("{build: 1, deploy: 3}", with: "{build: 3, deploy: 1}")
        let old = try record(s, "20260101-000000-000002", definition: earlier)
        #expect(progress(s, old) == (87, "deploying 50%"))
        // A definition that no longer loads: every main step once, (100 + 50 + 0) / 3.
        let unloadable = try record(s, "20260101-000000-000003", definition: "version: 1\nname: [")
        #expect(progress(s, unloadable) == (50, "deploying 50%"))
    }
}
