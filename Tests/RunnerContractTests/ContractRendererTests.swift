import FoundationEssentials
@testable import RunnerContract
import RunnerCore
import RunnerYAML
import Testing

/// Templates rendered over runs made by hand: field names, the status vocabulary, the time
/// format, conditionals and null, loops over steps and instances, error bodies.
@Suite struct ContractRendererTests {
    static let yaml = """
        version: 1
        name: jobs
        params:
          dirPath: {type: string, required: true}
        api:
          time_format: "yyyy-MM-dd'T'HH:mm:ss.SSSxxx"
          statuses:
            run: {queued: RUNNING, running: RUNNING, waiting: RUNNING, rollback_pending: RUNNING, succeeded: COMPLETED,
                  failed: FAILED, partial: FAILED, cancelled: CANCELED, rolled_back: FAILED, skipped: FAILED}
          error_body: {errorMessage: error.message}
          errors:
            not_found: {status: 404, body: {errorMessage: "'Specified job is not found. jobId:' + request.path.jobId"}}
          routes:
            - method: GET
              path: /api/jobs/{jobId}
              operation: show
              response:
                jobId: run.id
                uid: run.actor
                type: "'backup'"
                status: run.status
                progress: "run.status == 'RUNNING' ? run.progress : 100"
                startTime: run.created_at
                endTime: run.finished_at
                zipFilePath: "run.status == 'COMPLETED' ? steps.archive.outputs.zip : null"
                destDir: params.dirPath
                steps: {for_each: steps, only: [archive], item: {name: step.name, status: step.status}}
                targets:
                  for_each: steps.promote
                  item:
                    app: step.item
                    id: step.id
                    release: {if: "step.state == 'succeeded'", then: {id: step.outputs.release}, else: null}
                    error: {if: "step.state == 'failed'", then: [step.name]}
        steps:
          - name: archive
            run: echo archive
            outputs: [zip]
          - name: promote
            for_each: ["a", "b"]
            run: echo $ITEM
        """

    static func contract() throws -> APIContract {
        let result = PipelineLoader.load(bytes: Array(yaml.utf8), file: "jobs.yaml")
        let pipeline = try #require(result.pipeline, "\(result.diagnostics.map(\.message))")
        return try #require(pipeline.pipeline.contract)
    }

    static func run(_ status: RunStatus, finished: Bool) -> RunFacts {
        let created = Date(timeIntervalSince1970: 1_765_111_775.123)
        var run = RunRecord(id: RunID("20251207-123935-00abcd"), pipeline: "jobs", pipelineFile: "jobs.yaml",
                            definition: "", trigger: .api, params: ["dirPath": .string("dump1")], parallelism: 1,
                            createdAt: created)
        run.status = status
        run.actor = "alice"
        run.finishedAt = finished ? created.addingTimeInterval(2.5) : nil
        var archive = StepRecord(name: "archive", step: "archive", item: nil, section: "main", position: 0)
        archive.status = status == .succeeded ? .succeeded : .running
        archive.outputs = ["zip": "dump1/backup.zip"]
        var a = StepRecord(name: "promote[a]", step: "promote", item: "a", section: "main", position: 1)
        a.status = .failed
        let b = StepRecord(name: "promote[b]", step: "promote", item: "b", section: "main", position: 2)
        return RunFacts(stored: StoredRun(run: run, steps: [archive, a, b], attempts: []), retryable: false,
                        progress: 40, progressMessage: nil)
    }

    static func render(_ facts: RunFacts) throws -> JSONValue {
        let contract = try contract()
        let response = try #require(contract.routes.first?.response)
        let bytes = ContractRenderer(contract: contract).render(response, request: RequestFacts(actor: "alice", method: "GET"),
                                                                 run: facts)
        return try #require(JSONValue.parse(bytes), "\(String(decoding: bytes, as: UTF8.self))")
    }

    @Test func aRunningJobInTheContractsWords() throws {
        let job = try Self.render(Self.run(.running, finished: false))
        #expect(job["jobId"] == .string("20251207-123935-00abcd"))
        #expect(job["uid"] == .string("alice"))
        #expect(job["type"] == .string("backup"))
        #expect(job["status"] == .string("RUNNING"))
        #expect(job["progress"] == .int(40))
        #expect(job["startTime"] == .string("2025-12-07T12:49:35.123+00:00"))
        #expect(job["endTime"] == .null)
        #expect(job["zipFilePath"] == .null)
        #expect(job["destDir"] == .string("dump1"))
    }

    @Test func aCompletedJobShowsItsEndAndItsZip() throws {
        let job = try Self.render(Self.run(.succeeded, finished: true))
        #expect(job["status"] == .string("COMPLETED"))
        #expect(job["progress"] == .int(100))
        #expect(job["endTime"] == .string("2025-12-07T12:49:37.623+00:00"))
        #expect(job["zipFilePath"] == .string("dump1/backup.zip"))
    }

    @Test func loopsOverStepsAndInstances() throws {
        let job = try Self.render(Self.run(.running, finished: false))
        #expect(job["steps"] == .array([.object(["name": .string("archive"), "status": .string("running")])]))
        guard case .array(let targets)? = job["targets"] else { Issue.record("targets is not a list"); return }
        #expect(targets.map { $0["app"] } == [.string("a"), .string("b")])
        #expect(Set(targets.compactMap { $0["id"]?.string }).count == 2, "each instance has its own id")
    }

    /// `{if, then, else}`: an object where the condition holds, the `else` (here `null`) or
    /// `null` where it does not — what a ternary cannot do, since it only chooses values.
    @Test func aChoiceWritesAWholeObjectOrNull() throws {
        var facts = Self.run(.running, finished: false)
        facts.stored.steps[2].status = .succeeded
        facts.stored.steps[2].outputs = ["release": "r2"]
        let job = try Self.render(facts)
        guard case .array(let targets)? = job["targets"] else { Issue.record("targets is not a list"); return }
        #expect(targets.map { $0["release"] } == [.null, .object(["id": .string("r2")])])
        #expect(targets.map { $0["error"] } == [.array([.string("promote[a]")]), .null])
    }

    /// A choice's condition is a boolean expression over what its place reads, and it takes
    /// only `if`, `then`, `else`.
    @Test func aChoiceIsChecked() {
        let yaml = """
            version: 1
            name: jobs
            api:
              routes:
                - method: GET
                  path: /api/jobs/{jobId}
                  operation: show
                  response:
                    a: {if: run.id, then: 1}
                    b: {if: "run.nope == 'x'", then: 1}
                    c: {if: "run.id == 'x'", then: 1, elsif: 2}
                    d: {if: "run.id == 'x'", else: 2}
            steps:
              - {name: work, run: echo work}
            """
        let result = PipelineLoader.load(bytes: Array(yaml.utf8), file: "jobs.yaml")
        let found = result.diagnostics.map { "\($0.location?.line ?? 0) \($0.code.rawValue)" }
        #expect(found == ["9 RUN2028", "10 RUN2011", "11 RUN2001", "12 RUN2004"],
                "\(result.diagnostics.map(\.message))")
    }

    @Test func keysKeepTheOrderTheYAMLWroteThem() throws {
        let contract = try Self.contract()
        let response = try #require(contract.routes.first?.response)
        let bytes = ContractRenderer(contract: contract).render(response, request: RequestFacts(actor: nil, method: "GET"),
                                                                 run: Self.run(.queued, finished: false))
        let text = String(decoding: bytes, as: UTF8.self)
        let order = ["jobId", "uid", "type", "status", "progress", "startTime"].compactMap { text.firstRange(of: "\"\($0)\"")?.lowerBound }
        #expect(order == order.sorted() && order.count == 6)
    }

    @Test func anErrorBodyReadsTheRequestsPath() throws {
        let contract = try Self.contract()
        let answer = try #require(contract.answer(for: .notFound, code: "RUN_NOT_FOUND"))
        let body = try #require(answer.body)
        let bytes = ContractRenderer(contract: contract).render(
            body, request: RequestFacts(actor: "alice", method: "GET", path: ["jobId": "nope"]),
            error: ErrorFacts(status: 404, code: "RUN_NOT_FOUND", message: "no run 'nope'"))
        #expect(JSONValue.parse(bytes) == .object(["errorMessage": .string("Specified job is not found. jobId:nope")]))
        #expect(answer.status?.value == 404)
    }

    /// The checker's list of fields (`ContractFields`) and what the renderer fills agree: a
    /// field the checker accepts is never silently missing at runtime.
    @Test func everyFieldTheCheckerAcceptsIsFilled() throws {
        let renderer = ContractRenderer(contract: try Self.contract())
        let facts = Self.run(.succeeded, finished: true)
        var context = EvaluationContext()
        renderer.addRequest(RequestFacts(actor: "alice", method: "GET"), to: &context)
        renderer.addError(ErrorFacts(status: 404, code: "X", message: "m"), to: &context)
        renderer.addRun(facts, to: &context)
        renderer.addStep(facts.stored.steps[0], run: facts.stored.run, to: &context)
        let expected = ContractFields.run.map { "run.\($0.name)" } + ContractFields.step.map { "step.\($0.name)" }
            + ContractFields.error.map { "error.\($0.name)" } + ContractFields.request.map { "request.\($0.name)" }
            + ContractFields.stepByName.map { "steps.archive.\($0.name)" }
        #expect(expected.filter { context.fields[$0] == nil } == [])
        #expect(Set(context.fields.keys).subtracting(expected).filter { !$0.hasPrefix("step.outputs.") } == [])
    }
}
