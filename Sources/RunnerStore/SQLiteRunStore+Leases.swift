import FoundationEssentials
import RunnerCore

/// Leases and the writes of an execution (`RunLeases`). A claim's check and its epoch bump
/// are one write transaction; a fenced apply's lease check is the first statement of the
/// transaction that writes its changes, so no claim commits in between.
extension SQLiteRunStore {
    public func apply(_ changes: [StoreChange], to run: RunID) throws {
        guard !changes.isEmpty else { return }
        try database.write { try write(changes, to: run) }
    }

    /// The writer's path: its BEGIN waits 100 ms at most for a lock held elsewhere (the
    /// writer tries again with its own backoff, without holding the connection meanwhile).
    public func apply(_ changes: [StoreChange], under lease: Lease, leaseUntil: Date?) throws {
        try database.write(waitingAtMost: 100) {
            try checkAndExtend(lease, until: leaseUntil)
            try write(changes, to: lease.run)
        }
    }

    public func claimUnstarted(_ run: RunID, owner: String, until: Date) throws -> Lease? {
        try database.write {
            let claimed = try database.run("""
                UPDATE runs SET owner = ?, lease_until = ?, epoch = epoch + 1
                WHERE id = ? AND owner IS NULL AND status = 'queued'
                """, [.text(owner), .date(until), .text(run.rawValue)]) == 1
            return claimed ? try lease(of: run, owner: owner) : nil
        }
    }

    public func claim(_ run: RunID, owner: String, until: Date, now: Date,
                      isOwnerAlive: (String) -> Bool) throws -> Lease? {
        try database.write {
            let found = try database.query("SELECT owner, lease_until, status FROM runs WHERE id = ?",
                                           [.text(run.rawValue)])
            guard let row = found.first else { return nil }
            if let status = row.string(2).flatMap(RunStatus.init(rawValue:)), status.isTerminal { return nil }
            if let holder = row.string(0), holder != owner, let lease = row.date(1), lease > now, isOwnerAlive(holder) {
                return nil
            }
            try database.run("UPDATE runs SET owner = ?, lease_until = ?, epoch = epoch + 1 WHERE id = ?",
                             [.text(owner), .date(until), .text(run.rawValue)])
            return try lease(of: run, owner: owner)
        }
    }

    private func lease(of run: RunID, owner: String) throws -> Lease? {
        try database.query("SELECT epoch FROM runs WHERE id = ?", [.text(run.rawValue)]).first?.int(0)
            .map { Lease(run: run, owner: owner, epoch: Int64($0)) }
    }

    /// First statement of every fenced transaction: the lease is still the run's, and is
    /// extended when `until` is given (a check alone writes nothing: the run's row is not
    /// rewritten at every commit). Throws `LeaseLost` (the transaction is rolled back) when
    /// the lease is not the run's.
    private func checkAndExtend(_ lease: Lease, until: Date?) throws {
        let values: [SQLValue] = [.text(lease.run.rawValue), .text(lease.owner), .integer(lease.epoch)]
        let held = if let until {
            try database.run("UPDATE runs SET lease_until = ? WHERE id = ? AND owner = ? AND epoch = ?",
                             [.date(until)] + values) == 1
        } else {
            try database.query("SELECT 1 FROM runs WHERE id = ? AND owner = ? AND epoch = ?", values).count == 1
        }
        guard held else {
            let holder = try database.query("SELECT owner FROM runs WHERE id = ?", [.text(lease.run.rawValue)])
                .first?.string(0)
            throw LeaseLost(lease: lease, holder: holder)
        }
    }

    public func releaseLease(_ lease: Lease) throws {
        try database.write {
            _ = try database.run("""
                UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ? AND epoch = ?
                """, [.text(lease.run.rawValue), .text(lease.owner), .integer(lease.epoch)])
        }
    }
}
