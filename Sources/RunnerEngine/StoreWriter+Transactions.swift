import FoundationEssentials
import RunnerCore

/// The transactions of a batch, written on the writer's thread without its lock.
extension StoreWriter {
    struct Outcome {
        /// Items of the batch stored (from its start).
        var written = 0
        /// Runs whose transaction failed for good, and why.
        var failed: [RunID: any Error] = [:]
        /// The transient error that stopped the batch at `written`.
        var transient: (any Error)?
        /// Runs whose lease a transaction of this batch confirmed, and when it began.
        var confirmed: [RunID: Monotonic] = [:]
    }

    /// Each run's items in order, a transaction per run; a run that failed stores nothing more.
    /// Stops at the first transient failure (what follows is tried again, in order).
    func write(_ batch: [Queued], _ states: [RunID: RunState]) -> Outcome {
        var outcome = Outcome()
        var start = 0
        while start < batch.count {
            let run = batch[start].run
            let end = batch[start...].firstIndex { $0.run != run } ?? batch.endIndex
            // Made even for a run that failed: a deferred change also removes what it read.
            let changes = Self.changes(batch[start..<end])
            if states[run]?.failure == nil && outcome.failed[run] == nil {
                do {
                    let confirmed = try transaction(changes, renewing: hasRenewal(batch[start..<end]), of: run,
                                                    states[run])
                    if let confirmed { outcome.confirmed[run] = confirmed }
                } catch where error.isTransientStoreFailure {
                    outcome.transient = error
                    return outcome
                } catch {
                    outcome.failed[run] = error
                }
            }
            start = end
            outcome.written = end
        }
        return outcome
    }

    /// One run's changes in one transaction, fenced by its lease when it has one. The lease is
    /// checked always, and extended when a third of it has passed or a renewal was asked for;
    /// returns then when the transaction began.
    private func transaction(_ changes: [StoreChange], renewing: Bool, of run: RunID,
                             _ state: RunState?) throws -> Monotonic? {
        guard let state, let lease = state.lease else {
            try store.apply(changes, to: run)
            return nil
        }
        let began = clock.monotonic()
        let isDue = renewing || state.confirmedAt.map { began - $0 > state.leaseDuration / 3 } ?? true
        try store.apply(changes, under: lease,
                        leaseUntil: isDue ? clock.now().addingTimeInterval(state.leaseDuration) : nil)
        return isDue ? began : nil
    }

    private static func changes(_ items: ArraySlice<Queued>) -> [StoreChange] {
        var changes: [StoreChange] = []
        for entry in items {
            switch entry.item {
            case .change(let change): changes.append(change)
            case .deferred(let make): changes.append(contentsOf: make())
            case .renewal: break
            }
        }
        return changes
    }

    private func hasRenewal(_ items: ArraySlice<Queued>) -> Bool {
        items.contains { if case .renewal = $0.item { true } else { false } }
    }
}
