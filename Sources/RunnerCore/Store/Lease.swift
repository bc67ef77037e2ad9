import FoundationEssentials

/// A claim of a run for executing it: who holds it and the epoch the claim got. Each claim
/// bumps the run's epoch; every write of the run's execution names its lease, and a write
/// under an epoch that is no longer the run's (someone has claimed it since) is refused with
/// `LeaseLost` and changes nothing. So an owner that was paused past its lease, and finds on
/// waking that another runner took the run over, can neither record nor, because it checks
/// before launching, start anything more (fencing; docs/DECISIONS.md).
public struct Lease: Sendable, Hashable, CustomStringConvertible {
    public var run: RunID
    public var owner: String
    public var epoch: Int64

    public init(run: RunID, owner: String, epoch: Int64) {
        self.run = run
        self.owner = owner
        self.epoch = epoch
    }

    public var description: String { "run \(run) (owner \(owner), epoch \(epoch))" }
}

/// A write under a lease that is no longer the run's: another runner claimed it.
public struct LeaseLost: Error, CustomStringConvertible, Sendable {
    public var lease: Lease
    /// Who holds the run now, when known.
    public var holder: String?

    public init(lease: Lease, holder: String?) {
        self.lease = lease
        self.holder = holder
    }

    public var description: String {
        "run \(lease.run) was taken over by another runner\(holder.map { " (\($0))" } ?? ""): this runner's lease "
            + "(epoch \(lease.epoch)) is no longer the run's"
    }
}

/// An error of a store that may pass by itself (a lock held by another process, a full disk):
/// worth retrying, and never evidence that a record does not exist.
public protocol TransientFailure: Error {
    var isTransient: Bool { get }
}

extension Error {
    /// Whether this is a store failure that may pass by itself (`TransientFailure`).
    public var isTransientStoreFailure: Bool { (self as? any TransientFailure)?.isTransient ?? false }
}
