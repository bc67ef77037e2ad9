import RunnerCore

/// The executor's claim of its run and when it last asked for it to be renewed. The store
/// writer's transactions extend the lease as they go; a run with nothing to store (steps that
/// run for long) asks for a renewal every third of the lease (`StoreWriter.renew`).
struct LeaseHeartbeat: Sendable {
    let lease: Lease
    /// Seconds a renewal extends the lease by.
    let duration: Double
    private(set) var askedAt: Monotonic

    init(_ lease: Lease, duration: Double, confirmedAt: Monotonic) {
        self.lease = lease
        self.duration = duration
        askedAt = confirmedAt
    }

    /// Whether a renewal is due at `now` (a third of the lease has passed since the last
    /// ask); if so, it counts as asked.
    mutating func isDue(at now: Monotonic) -> Bool {
        guard now - askedAt > duration / 3 else { return false }
        askedAt = now
        return true
    }
}
