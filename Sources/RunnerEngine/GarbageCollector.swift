import FoundationEssentials
import RunnerCore

/// Removes finished runs past their retention, with their logs and workspaces, and what else
/// the run state keeps past its time (expired Idempotency-Keys): `runner gc`, and the server
/// every `--gc-every`.
public struct GarbageCollector: Sendable {
    /// What gc removed (or, on a dry run, would remove).
    public struct Collected: Sendable {
        public var run: RunRecord
        public var retention: Duration
    }

    /// What one pass of the server's gc removed.
    public struct Sweep: Sendable, Equatable {
        public var runs: Int
        public var keys: Int
    }

    /// The default time finished runs are kept (Belayer's job records: 3 days).
    public static let defaultRetention: Duration = .seconds(3 * 86_400)

    let store: any RunStateStore
    let state: StateDirectory

    public init(store: any RunStateStore, state: StateDirectory) {
        self.store = store
        self.state = state
    }

    /// Removes finished runs past their retention — the pipeline's `retention`, else
    /// `defaultRetention`; `olderThan` overrides both — with their logs and workspaces, and
    /// half-written workspaces no run owns. Unfinished runs are never touched.
    public func collect(now: Date, olderThan: Duration? = nil, defaultRetention: Duration = Self.defaultRetention,
                        dryRun: Bool = false) throws -> [Collected] {
        let shortest = olderThan ?? .seconds(0)
        var retentionOf: [String: Duration] = [:]
        var collected: [Collected] = []
        for run in try store.finishedRuns(before: now.addingTimeInterval(-Self.seconds(shortest))) {
            let retention = olderThan ?? Self.retention(of: run, default: defaultRetention, cache: &retentionOf)
            let finished = run.finishedAt ?? run.updatedAt
            guard finished.addingTimeInterval(Self.seconds(retention)) <= now else { continue }
            collected.append(Collected(run: run, retention: retention))
            if !dryRun { try remove(run.id) }
        }
        if !dryRun { removeHalfWrittenWorkspaces() }
        return collected
    }

    /// Finished runs past retention and expired Idempotency-Keys; a store that fails removes
    /// nothing this time (the next pass tries again).
    public func sweep(now: Date, defaultRetention: Duration) -> Sweep {
        let runs = (try? collect(now: now, defaultRetention: defaultRetention))?.count ?? 0
        let keys = (try? store.expireIdempotencyKeys(now: now)) ?? 0
        return Sweep(runs: runs, keys: keys)
    }

    /// The pipeline's `retention`, read from the run's definition (once per definition).
    private static func retention(of run: RunRecord, default fallback: Duration,
                                  cache: inout [String: Duration]) -> Duration {
        if let cached = cache[run.definition] { return cached }
        let retention = (try? StoredDefinition.load(run).get())?.pipeline.retention?.value ?? fallback
        cache[run.definition] = retention
        return retention
    }

    /// Files first: a crash in between leaves a record whose files are gone (gc again
    /// finishes it), never files no record points to.
    private func remove(_ run: RunID) throws {
        try? FileManager.default.removeItem(at: state.logs(of: run))
        try? FileManager.default.removeItem(at: GitRefs.workspace(state, run))
        try store.deleteFinishedRun(run)
    }

    private func removeHalfWrittenWorkspaces() {
        let workspaces = state.root.appendingPathComponent("workspaces")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: workspaces.path)) ?? []
        where name.hasPrefix(".") && name.hasSuffix(".partial") {
            let id = RunID(String(name.dropFirst().dropLast(".partial".count)))
            if (try? store.load(id))??.run.status.isTerminal != false {
                try? FileManager.default.removeItem(at: workspaces.appendingPathComponent(name))
            }
        }
    }

    private static func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) }
}
