import Foundation
import RunnerCore
import RunnerTestSupport
import RunnerYAML
@testable import RunnerEngine

/// The executor wired to fakes: an in-memory store (behind `FaultyStore`), a fake launcher and
/// a clock moved by hand. No process starts and nothing waits on the wall clock; a test waits
/// only for events (a launch, an observer's event, a stored change), each with a bound that
/// fails it. The state directory (logs, launch journals) is a temporary folder.
final class GlueFixture: @unchecked Sendable {
    let store = FaultyStore()
    let clock = ManualClock()
    let launcher: FakeLauncher
    let dir: URL
    let state: StateDirectory
    let pipelineFile: URL
    /// What the executors told their observer, in order.
    let events = Observed<[ExecutionEvent]>([])
    static let leaseDuration: Double = 15

    init() throws {
        launcher = FakeLauncher(clock: clock)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("glue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        state = StateDirectory(root: dir.appendingPathComponent(".runner"))
        try state.ensure()
        pipelineFile = dir.appendingPathComponent("pipeline.yaml")
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Records a run of `yaml` created now (on the fixture's clock).
    func create(_ yaml: String, params: [String: Value] = [:]) throws -> RunID {
        let loaded = PipelineLoader.load(bytes: Array(yaml.utf8), file: pipelineFile.path)
        guard let pipeline = loaded.pipeline else { throw TestFailure("\(loaded.diagnostics.map(\.message))") }
        var random = SystemRandomNumberGenerator()
        let id = RunID.generate(at: clock.now(), using: &random)
        let (run, steps) = RunCreation.records(id: id, pipeline: pipeline, definition: yaml, file: pipelineFile.path,
                                               params: params, trigger: .cli, parallelism: 4, at: clock.now())
        try store.createRun(run, steps: steps)
        return id
    }

    func executor(_ id: RunID, launcher: FakeLauncher? = nil) -> RunExecutor {
        let events = self.events
        var options = RunExecutor.Options(environment: ["PATH": "/usr/bin:/bin"], git: FakeRefResolver(refs: [:]), observer: { event in
            events.update { $0.append(event) }
        })
        options.clock = clock
        options.leaseDuration = Self.leaseDuration
        options.killGrace = .seconds(5)
        options.pollInterval = .milliseconds(250)
        return RunExecutor(run: id, store: store, launcher: launcher ?? self.launcher, state: state, options: options)
    }

    /// Executes the run in a task of its own; `outcome(of:)` waits for its end.
    func start(_ id: RunID, launcher: FakeLauncher? = nil) -> Execution {
        Execution(executor(id, launcher: launcher))
    }

    /// Moves the clock once the loop has done what it had to (an executor that has just
    /// launched has its poll to schedule): the timers the move reaches are all there.
    func advance(by seconds: Double) async {
        _ = await launcher.loop.whenIdle()
        clock.advance(by: seconds)
    }

    /// Whether an observer's event satisfies `match`, waiting for one for at most 30 s.
    func waitForEvent(_ match: @escaping @Sendable (ExecutionEvent) -> Bool) async -> Bool {
        await events.wait { $0.contains(where: match) }
    }

    /// One executor running in a task, and how it ended once it has.
    final class Execution: Sendable {
        let executor: RunExecutor
        let ended = Observed<Result<StoredRun, any Error>?>(nil)

        init(_ executor: RunExecutor) {
            self.executor = executor
            let ended = self.ended
            Task {
                do {
                    let run = try await executor.execute()
                    ended.update { $0 = .success(run) }
                } catch {
                    ended.update { $0 = .failure(error) }
                }
            }
        }

        /// How the execution ended; a failure when it has not within 30 s.
        func outcome() async -> Result<StoredRun, any Error> {
            guard await ended.wait(until: { $0 != nil }), let outcome = ended.value else {
                return .failure(TestFailure("the execution did not end within 30 s"))
            }
            return outcome
        }

        func run() async throws -> StoredRun { try await outcome().get() }
    }
}

extension StoredRun {
    func attempts(of step: String) -> [AttemptRecord] { attempts.filter { $0.step.rawValue == step } }
}
