import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import RunnerYAML

/// A run service on an in-memory store and a fake git, in a directory of its own (the secret
/// box's key goes there): the engine's operations without a database, libgit2 or a process.
final class LaunchHarness: @unchecked Sendable {
    static let sha = String(repeating: "a1", count: 20)
    /// A fixed instant: what is recorded and audited is dated by the test, not by the clock.
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    let dir: URL
    let store = InMemoryRunStore()
    let service: RunService

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("launch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let git = FakeRefResolver(refs: [dir.appendingPathComponent("site").path: ["main": Self.sha]])
        service = RunService(state: StateDirectory(root: dir), environment: [:], store: store, git: git)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// `guarded`: an enum param with its own error code, a secret, a gitref in `site`, and the
    /// concurrency rule given.
    func pipeline(onConflict: String = "reject",
                  steps: String = "  - {name: work, run: \"true\"}") throws -> LoadedPipeline {
        let text = """
        version: 1
        name: guarded
        params:
          target: {type: enum, values: [staging, production], default: staging, error: INVALID_TARGET}
          password: {type: string, secret: true}
          ref: {type: gitref, repo: site, error: INVALID_REF}
        concurrency: {on_conflict: \(onConflict), error: GUARDED_BUSY}
        steps:
        \(steps)
        """
        let file = dir.appendingPathComponent("guarded.yaml").path
        let loaded = PipelineLoader.load(bytes: Array(text.utf8), file: file)
        guard let pipeline = loaded.pipeline else { throw InMemoryStoreError("\(loaded.diagnostics)") }
        return LoadedPipeline(pipeline: pipeline, definition: text, file: file)
    }

    func request(_ params: [String: Value], onConflict: String = "reject",
                 audit: AuditContext? = AuditContext(actor: "ci", traceID: "trace-7")) throws -> LaunchRequest {
        var request = LaunchRequest(pipeline: try pipeline(onConflict: onConflict), params: LaunchRequest.given(params),
                                    trigger: .api, parallelism: 2)
        request.audit = audit
        return request
    }

    /// An Idempotency-Key whose first response is the run's id (or the outcome's name).
    static func key(_ key: String, payload: String) -> IdempotencyRequest {
        IdempotencyRequest(scope: "ci POST /runs", key: key, payloadHash: payload, ttl: 86_400) { outcome in
            switch outcome {
            case .accepted(let run): (202, Array(run.id.rawValue.utf8))
            case .skipped(let run, _): (200, Array(run.id.rawValue.utf8))
            default: (500, Array("\(outcome)".utf8))
            }
        }
    }

    func newestAudit() throws -> AuditRecord? { try store.audit(limit: 1).first }

    func runs() throws -> [RunRecord] { try store.runs(RunQuery(limit: 100)) }
}

/// A store failure that may pass (a lock held elsewhere).
struct BusyStore: Error, TransientFailure, CustomStringConvertible {
    var isTransient: Bool { true }
    var description: String { "database is locked" }
}
