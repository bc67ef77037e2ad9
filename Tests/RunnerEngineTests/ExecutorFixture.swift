import Foundation
import RunnerTestSupport
import Testing
import RunnerCore
import RunnerGit
import RunnerStore
import RunnerYAML
@testable import RunnerEngine

/// The executor with real processes, a real store and real files, in a temp directory.
struct ExecutorFixture {
    let dir: URL
    let state: StateDirectory
    let store: SQLiteRunStore
    let pipelineFile: URL

    init(_ yaml: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        state = StateDirectory(root: dir.appendingPathComponent(".runner"))
        try state.ensure()
        store = try SQLiteRunStore(path: state.database.path)
        pipelineFile = dir.appendingPathComponent("pipeline.yaml")
        try yaml.write(to: pipelineFile, atomically: false, encoding: .utf8)
    }

    func create(params: [(String, ParamInput)] = [], parallelism: Int = 4, id: String? = nil) throws -> RunID {
        let text = try String(contentsOf: pipelineFile, encoding: .utf8)
        let loaded = PipelineLoader.load(bytes: Array(text.utf8), file: pipelineFile.path)
        guard let pipeline = loaded.pipeline else { throw TestFailure("\(loaded.diagnostics.map(\.message))") }
        let resolved = ParamResolver.resolve(params.map { (name: $0.0, input: $0.1) }, against: pipeline.pipeline.params)
        var random = SystemRandomNumberGenerator()
        let runID = id.map(RunID.init) ?? RunID.generate(at: Date(), using: &random)
        let (run, steps) = RunCreation.records(id: runID, pipeline: pipeline, definition: text, file: pipelineFile.path,
                                               params: resolved.values, trigger: .cli, parallelism: parallelism, at: Date())
        try store.createRun(run, steps: steps)
        return runID
    }

    /// A pipeline whose steps run one after the other, each appending its name to the file
    /// `ledger`.
    static func ledgerChain(_ names: String...) -> String {
        var yaml = "version: 1\nname: chain\nsteps:\n"
        for (i, name) in names.enumerated() {
            yaml += "  - {name: \(name), run: \"echo \(name) >> ledger\"\(i > 0 ? ", needs: [\(names[i - 1])]" : "")}\n"
        }
        return yaml
    }

    /// What the steps are given: this process's PATH.
    static let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]

    func executor(_ id: RunID, pipeline: ValidatedPipeline? = nil, observer: (@Sendable (ExecutionEvent) -> Void)? = nil) -> RunExecutor {
        var options = RunExecutor.Options(environment: Self.environment, git: LibGit2Refs(), observer: observer)
        options.pipeline = pipeline
        options.killGrace = .milliseconds(500)
        options.pollInterval = .milliseconds(50)
        return RunExecutor(run: id, store: store, launcher: PosixProcessLauncher(), state: state, options: options)
    }

    /// A run service on the fixture's state (SQLite), as the CLI's composition root makes it.
    func service() throws -> RunService {
        try RunService.onSQLite(state: state, environment: Self.environment)
    }

    /// A run of the pipeline file launched through `service`'s one launch path, which must
    /// accept it.
    func launch(_ service: RunService, params: [String: Value] = [:], actor: String? = nil) throws -> RunID {
        let text = try String(contentsOf: pipelineFile, encoding: .utf8)
        let pipeline = try #require(PipelineLoader.load(bytes: Array(text.utf8), file: pipelineFile.path).pipeline)
        let loaded = LoadedPipeline(pipeline: pipeline, definition: text, file: pipelineFile.path)
        var request = LaunchRequest(pipeline: loaded, params: LaunchRequest.given(params), trigger: .cli,
                                    parallelism: 1)
        request.actor = actor
        guard case .accepted(let run) = try service.launch(request) else {
            throw TestFailure("the run with params \(params) was not accepted")
        }
        return run.id
    }

    func run(params: [(String, ParamInput)] = []) async throws -> StoredRun {
        let id = try create(params: params)
        return try await executor(id).execute()
    }

    /// A process left by a dead runner: it carries the attempt's marker, as a step would.
    func orphan(marker: String) throws -> Process {
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: "/bin/sleep")
        orphan.arguments = ["60"]
        orphan.environment = ["RUNNER_ATTEMPT_ID": marker]
        try orphan.run()
        return orphan
    }

    /// Whether `process` (a 60 s sleep) is dead: gone or a zombie, seen in /proc, not through
    /// Foundation, which reaps its children on its own queue (late, on a loaded machine).
    func wasKilled(_ process: Process, within seconds: TimeInterval = 10) -> Bool {
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return true }
            if stat[stat.index(after: close)...].split(separator: " ").first == "Z" { return true }
            usleep(10_000)
        } while Date() < deadline
        return false
    }

    func file(_ name: String) -> String { (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? "" }
}

extension StoredRun {
    func step(_ name: String) -> StepRecord? { steps.first { $0.name.rawValue == name } }
}
