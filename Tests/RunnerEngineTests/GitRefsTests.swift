import Foundation
import RunnerTestSupport
import Testing
import RunnerCore
import RunnerYAML
@testable import RunnerEngine

/// gitref params and workspaces through the `RefResolver` port, with git as a dictionary.
@Suite struct GitRefsTests {
    static let sha = String(repeating: "c", count: 40)
    static let yaml = """
    version: 1
    name: site
    params:
      targetRef: {type: gitref, required: true, repo: ../site, error: INVALID_TARGET_REF}
    workspace: {from: params.targetRef}
    steps:
      - {name: read, run: "cat page >> \\"$RUNNER_OUTPUT\\"", outputs: [content]}
    """
    let git = FakeRefResolver(refs: ["/srv/site": ["main": sha]], trees: [sha: ["page": "content=v3\n"]])

    func resolve(_ ref: String, file: String = "/srv/pipelines/site.yaml", repositories: [String: String] = [:]) throws
        -> (refs: [String: RecordedRef], diagnostics: [Diagnostic]) {
        GitRefs.resolve(try pipeline(), params: ["targetRef": .string(ref)], pipelineFile: file,
                        repositories: repositories, git: git)
    }

    func pipeline() throws -> ValidatedPipeline {
        let loaded = PipelineLoader.load(bytes: Array(Self.yaml.utf8), file: "/srv/pipelines/site.yaml")
        return try #require(loaded.pipeline, "\(loaded.diagnostics.map(\.message))")
    }

    @Test func aRefThatResolvesIsRecordedWithItsRepository() throws {
        let resolved = try resolve("main")
        #expect(resolved.diagnostics.isEmpty)
        #expect(resolved.refs == ["targetRef": RecordedRef(sha: Self.sha, repository: "/srv/site")])
        let hook = try resolve("main", file: "/elsewhere/site.yaml", repositories: ["targetRef": "/srv/site"])
        #expect(hook.refs["targetRef"]?.repository == "/srv/site", "a hook's repository overrides the param's repo")
    }

    @Test func aRefThatDoesNotResolveIsAParamErrorWithThePipelinesCode() throws {
        let resolved = try resolve("nope")
        #expect(resolved.refs.isEmpty)
        let problem = try #require(resolved.diagnostics.first)
        #expect(resolved.diagnostics.count == 1)
        #expect(problem.code == .invalidParam)
        #expect(problem.displayCode == "INVALID_TARGET_REF")
        #expect(problem.subject == "params.targetRef")
        #expect(problem.message == "param 'targetRef': no branch, tag or commit 'nope' in /srv/site")
        #expect(problem.hint == "give an existing branch, tag or commit; list them with `git branch -a` and `git tag`")
        let elsewhere = try resolve("main", file: "/tmp/p/site.yaml")
        #expect(elsewhere.diagnostics.first?.hint
                == "the param's `repo` is relative to the pipeline file; check it names a git repository")
    }

    @Test func theLaunchCheckResolvesThroughThePortItIsGiven() throws {
        let inputs: [(name: String, input: ParamInput)] = [(name: "targetRef", input: .text("main"))]
        let checked = LaunchCheck.check(inputs, for: try pipeline(), pipelineFile: "/srv/pipelines/site.yaml", git: git)
        #expect((try? checked.get())?.refs["targetRef"]?.sha == Self.sha)
        let refused = LaunchCheck.check([(name: "targetRef", input: .text("v9"))], for: try pipeline(),
                                        pipelineFile: "/srv/pipelines/site.yaml", git: git)
        guard case .failure(let problems) = refused else { Issue.record("resolved v9"); return }
        #expect(problems.diagnostics.map(\.displayCode) == ["INVALID_TARGET_REF"])
    }

    /// The records of a run created at `main`, as a front door makes them.
    func records(_ id: String, _ fixture: ExecutorFixture) throws -> (RunRecord, [StepRecord]) {
        var (run, steps) = RunCreation.records(id: RunID(id), pipeline: try pipeline(), definition: Self.yaml,
                                               file: fixture.pipelineFile.path, params: ["targetRef": .string("main")],
                                               trigger: .cli, parallelism: 1, at: Date())
        run.refs = ["targetRef": RecordedRef(sha: Self.sha, repository: "/srv/site")]
        return (run, steps)
    }

    @Test func aWorkspaceIsTheCommitCheckedOutAndKeptOnceComplete() throws {
        let fixture = try ExecutorFixture(Self.yaml)
        var (run, _) = try records("r1", fixture)
        let prepared = try GitRefs.prepareWorkspace(try pipeline(), run: run, state: fixture.state, git: git)
        let directory = try #require(prepared)
        #expect(directory.path == GitRefs.workspace(fixture.state, run.id).path)
        #expect(try String(contentsOf: directory.appendingPathComponent("page"), encoding: .utf8) == "content=v3\n")
        // A resumed run continues in the files its steps left.
        try "edited\n".write(to: directory.appendingPathComponent("page"), atomically: false, encoding: .utf8)
        _ = try GitRefs.prepareWorkspace(try pipeline(), run: run, state: fixture.state, git: git)
        #expect(try String(contentsOf: directory.appendingPathComponent("page"), encoding: .utf8) == "edited\n")

        run.id = RunID("r2")
        run.refs["targetRef"]?.sha = String(repeating: "d", count: 40)
        #expect(throws: GitRefs.WorkspaceError.self) {
            try GitRefs.prepareWorkspace(try pipeline(), run: run, state: fixture.state, git: git)
        }
        let workspaces = fixture.state.root.appendingPathComponent("workspaces")
        let left = try FileManager.default.contentsOfDirectory(atPath: workspaces.path)
        #expect(left == ["r1"], "no partial checkout is left behind")
    }

    @Test func theExecutorRunsStepsInTheWorkspaceItsPortWrote() async throws {
        let fixture = try ExecutorFixture(Self.yaml)
        let (run, steps) = try records("r1", fixture)
        try fixture.store.createRun(run, steps: steps)
        let id = run.id
        let options = RunExecutor.Options(environment: ["PATH": "/usr/bin:/bin"], git: git)
        let executor = RunExecutor(run: id, store: fixture.store, launcher: PosixProcessLauncher(),
                                   state: fixture.state, options: options)
        let finished = try await executor.execute()
        #expect(finished.run.status == .succeeded)
        #expect(finished.step("read")?.outputs["content"] == "v3")
    }
}
