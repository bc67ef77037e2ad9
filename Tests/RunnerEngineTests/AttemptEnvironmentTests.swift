import Foundation
@testable import RunnerCore
import RunnerTestSupport
import RunnerYAML
import Testing
@testable import RunnerEngine

/// An attempt's environment and process spec, built from the run's parts without I/O.
@Suite struct AttemptEnvironmentTests {
    static let yaml = """
        version: 1
        name: env
        params:
          target: {type: string, required: true}
          token: {type: string, secret: true, default: s3cret}
          hosts: {type: list, items: string, default: [h1, h2]}
        env:
          SITE: site-dir
          KEY: {from_env: RUNNER_KEY, secret: true}
        steps:
          - {name: plain, run: echo plain}
          - name: build
            run: echo build
            workdir: sub/../out
            shell: bash
            env: {STAGE: one}
            outputs: [release]
          - {name: promote, run: echo promote, needs: [build], for_each: params.hosts}
        """

    func pipeline() throws -> ValidatedPipeline {
        let loaded = PipelineLoader.load(bytes: Array(Self.yaml.utf8), file: "/srv/p/pipeline.yaml")
        return try #require(loaded.pipeline, "\(loaded.diagnostics.map(\.message))")
    }

    func run(_ pipeline: ValidatedPipeline) -> RunRecord {
        let params: [String: Value] = ["target": .string("main"), "token": .string("s3cret"),
                                       "hosts": .list([.string("h1"), .string("h2")])]
        var (run, _) = RunCreation.records(id: RunID("r1"), pipeline: pipeline, definition: Self.yaml,
                                           file: "/srv/p/pipeline.yaml", params: params, trigger: .api, parallelism: 2,
                                           at: Date(timeIntervalSince1970: 1_800_000_000))
        run.refs = ["target": RecordedRef(sha: String(repeating: "a", count: 40), repository: "/srv/repo")]
        return run
    }

    func environment() throws -> (AttemptEnvironment, AttemptEnvironment.Parts, ValidatedPipeline) {
        let pipeline = try pipeline()
        let run = run(pipeline)
        let parts = try AttemptEnvironment.parts(of: pipeline.pipeline, params: run.params, refs: run.refs,
                                                 secretParams: run.secretParams ?? [],
                                                 runner: ["PATH": "/bin", "RUNNER_KEY": "k3y"],
                                                 pipelineDirectory: "/srv/p").get()
        return (AttemptEnvironment(parts, run: run, workspace: "/ws/r1", runner: ["PATH": "/bin", "RUNNER_KEY": "k3y"]),
                parts, pipeline)
    }

    func request(_ pipeline: ValidatedPipeline, _ name: String, node: Int, item: String? = nil,
                 outputs: [(String, String, String)] = []) -> RunScheduler.LaunchRequest {
        let instance = RunScheduler.instances(of: pipeline, params: ["hosts": .list([.string("h1"), .string("h2")])])
            .first { $0.name.rawValue == name }
        return RunScheduler.LaunchRequest(instance: instance?.index ?? 0, node: node, name: StepName(name), item: item,
                                          attempt: 1, serial: 2,
                                          policy: StepPolicy(step: pipeline.steps[node], pipeline: pipeline.pipeline),
                                          visibleOutputs: outputs.map { (step: $0.0, key: $0.1, value: $0.2) })
    }

    func attempt(_ name: String) -> AttemptEnvironment.Attempt {
        .init(name: StepName(name), serial: 2, files: AttemptFiles(stem: "/state/logs/r1/\(name).2"), marker: "r1/\(name)/2")
    }

    @Test func theRunsPartsHoldItsVariablesParamsAndSecrets() throws {
        let (environment, parts, _) = try environment()
        #expect(parts.variables["SITE"] == "site-dir" && parts.variables["KEY"] == "k3y")
        #expect(parts.variables["RUNNER_PIPELINE_DIR"] == "/srv/p")
        #expect(Set(parts.secrets) == ["k3y", "s3cret"])
        #expect(environment.base["PARAM_TARGET"] == "main")
        #expect(environment.base["PARAM_TARGET_SHA"] == String(repeating: "a", count: 40))
        #expect(environment.base["PARAM_HOSTS"] != nil)
        #expect(environment.base["RUNNER_WORKSPACE"] == "/ws/r1")
        #expect(environment.base["RUNNER_RUN_ID"] == "r1" && environment.base["RUNNER_TRIGGER"] == "api")
        #expect(environment.reserved.isSuperset(of: ["PARAM_TARGET", "RUNNER_RUN_ID", "RUNNER_PIPELINE"]))
    }

    /// `RUNNER_ACTOR`: who launched the run, empty when nobody was recorded; no step's `env`
    /// can set it.
    @Test func stepsGetTheRunsActor() throws {
        let pipeline = try pipeline()
        var run = run(pipeline)
        let parts = try AttemptEnvironment.parts(of: pipeline.pipeline, params: run.params, refs: [:], secretParams: [],
                                                 runner: ["RUNNER_KEY": "k"], pipelineDirectory: "/srv/p").get()
        run.actor = "ops-bot"
        let named = AttemptEnvironment(parts, run: run, workspace: nil, runner: [:])
        #expect(named.base["RUNNER_ACTOR"] == "ops-bot" && named.reserved.contains("RUNNER_ACTOR"))
        run.actor = nil
        #expect(AttemptEnvironment(parts, run: run, workspace: nil, runner: [:]).base["RUNNER_ACTOR"] == "")
    }

    @Test func aMissingRequiredFromEnvVariableIsNamed() throws {
        let pipeline = try pipeline()
        let parts = AttemptEnvironment.parts(of: pipeline.pipeline, params: [:], refs: [:], secretParams: [],
                                             runner: [:], pipelineDirectory: "/srv/p")
        guard case .failure(let missing) = parts else {
            Issue.record("expected the missing variable")
            return
        }
        #expect(missing.description.contains("env KEY takes the runner's environment variable RUNNER_KEY"))
    }

    /// A plain step gets its own `RUNNER_*` only, with the run's shared environment; a step
    /// with variables, an item or outputs gets all of it, its variables under the params.
    @Test func anAttemptsEnvironmentAddsItsOwnToTheRuns() throws {
        let (environment, _, pipeline) = try environment()
        let plain = environment.environment(for: pipeline.steps[0], request(pipeline, "plain", node: 0), attempt("plain"))
        #expect(plain.shared === environment.shared)
        #expect(Set(plain.variables.keys) == AttemptEnvironment.attemptVariables)
        #expect(plain.variables["RUNNER_ATTEMPT_ID"] == "r1/plain/2" && plain.variables["RUNNER_ATTEMPT"] == "2")
        #expect(plain.variables["RUNNER_OUTPUT"] == "/state/logs/r1/plain.2.output")
        #expect(!environment.shared.lines.contains { $0.hasPrefix("RUNNER_STEP=") })
        let build = environment.environment(for: pipeline.steps[1],
                                            request(pipeline, "build", node: 1, outputs: [("plain", "x-y", "1")]),
                                            attempt("build"))
        #expect(build.shared == nil)
        #expect(build.variables["STAGE"] == "one" && build.variables["SITE"] == "site-dir")
        #expect(build.variables["PARAM_TARGET"] == "main" && build.variables["RUNNER_RUN_ID"] == "r1")
        #expect(build.variables["STEP_PLAIN_X_Y"] == "1")
        let promote = environment.environment(for: pipeline.steps[2], request(pipeline, "promote[h2]", node: 2, item: "h2"),
                                              attempt("promote[h2]"))
        #expect(promote.variables["ITEM"] == "h2" && promote.variables["RUNNER_STEP"] == "promote[h2]")
    }

    @Test func theProcessSpecIsTheShellTheScriptTheWorkdirAndTheLog() throws {
        let (environment, _, pipeline) = try environment()
        let directory = PipelineDirectory(URL(fileURLWithPath: "/ws/r1", isDirectory: true))
        let build = AttemptProcessSpec.make(pipeline.steps[1], request(pipeline, "build", node: 1), attempt: attempt("build"),
                                            environment: environment, pipelineDirectory: directory,
                                            masker: SecretMasker(["s3cret"]), echo: nil)
        #expect(build.argv.last == "echo build" && build.argv.first?.hasSuffix("bash") == true)
        #expect(build.workingDirectory == "/ws/r1/out")
        #expect(build.logPath == "/state/logs/r1/build.2.log")
        #expect(build.masker.mask("s3cret") == "***")
        let plain = AttemptProcessSpec.make(pipeline.steps[0], request(pipeline, "plain", node: 0), attempt: attempt("plain"),
                                            environment: environment, pipelineDirectory: directory,
                                            masker: SecretMasker([]), echo: nil)
        #expect(plain.workingDirectory == "/ws/r1" && plain.shared === environment.shared)
    }
}

/// The one loader of stored definitions, and what is masked of a run's params.
@Suite struct StoredDefinitionTests {
    @Test func aDefinitionLoadsOnceAndAnUnloadableOneSaysWhy() throws {
        let text = "version: 1\nname: cached-\(UUID().uuidString.prefix(8).lowercased())\nsteps:\n  - {name: a, run: 'true'}\n"
        let first = try StoredDefinition.load(text, file: "/p.yaml").get()
        #expect(StoredDefinition.isKept(text, file: "/p.yaml"))
        #expect(try StoredDefinition.load(text, file: "/p.yaml").get().pipeline.name == first.pipeline.name)
        for n in 0..<StoredDefinition.capacity { _ = StoredDefinition.load(text + "# \(n)\n", file: "/p.yaml") }
        #expect(!StoredDefinition.isKept(text, file: "/p.yaml"), "the oldest goes once the cache is full")
        let long = text + String(repeating: "#\n", count: StoredDefinition.cachedLength)
        #expect(throws: Never.self) { try StoredDefinition.load(long, file: "/p.yaml").get() }
        #expect(!StoredDefinition.isKept(long, file: "/p.yaml"), "a long definition is not kept")
        guard case .failure(let unloadable) = StoredDefinition.load("version: 1\nname: [\n", file: "/p.yaml") else {
            Issue.record("a broken definition loaded")
            return
        }
        #expect(!unloadable.diagnostics.isEmpty)
    }

    @Test func maskingUsesTheStoredNamesAndFailsClosedWithoutThem() {
        var run = RunRecord(id: RunID("r"), pipeline: "p", pipelineFile: "/p.yaml",
                            definition: "version: 1\nname: p\nparams:\n  a: {type: string, secret: true}\n",
                            trigger: .cli, params: ["a": .string("x"), "b": .string("y")], parallelism: 1,
                            createdAt: Date(timeIntervalSince1970: 0))
        run.secretParams = ["a"]
        #expect(run.shownParams == ["a": .string("***"), "b": .string("y")])
        run.secretParams = nil
        #expect(run.shownParams == ["a": .string("***"), "b": .string("***")], "no names stored: every param masked")
    }

    @Test func aHeartbeatIsDueEveryThirdOfTheLease() {
        let lease = Lease(run: RunID("r"), owner: "o", epoch: 1)
        var heartbeat = LeaseHeartbeat(lease, duration: 15, confirmedAt: Monotonic(seconds: 100))
        let asks = [105, 105.5, 110, 111].map { heartbeat.isDue(at: Monotonic(seconds: $0)) }
        #expect(asks == [false, true, false, true], "due after 5 s, counted from the last ask")
    }
}
