import FoundationEssentials

/// A store that says whether its writes succeed now.
public protocol StoreHealthReporting: AnyObject, Sendable {
    var health: StoreHealth { get }
}

/// Whether the store records: the last failure of a write and since when it has been failing,
/// for `/healthz` and for what the runner says while it waits. The store updates it with the
/// outcome of each write transaction (a success clears it).
public final class StoreHealth: @unchecked Sendable {
    public struct Failure: Sendable, CustomStringConvertible {
        public var message: String
        public var since: Date
        public var description: String { "\(message) (since \(Timestamp.format(since)))" }
    }

    private let lock = Lock()
    private var failure: Failure?

    public init() {}

    /// The failure the store is in, nil when its last write succeeded.
    public var current: Failure? { lock.withLock { failure } }

    public func recordFailure(_ message: String, at now: Date = Date()) {
        lock.withLock {
            if failure == nil { failure = Failure(message: message, since: now) } else { failure?.message = message }
        }
    }

    public func recordSuccess() {
        lock.withLock { if failure != nil { failure = nil } }
    }
}

/// The store has failed with transient errors for longer than the runner waits for it: what
/// could not be recorded is given up on (the run stops; `runner runs resume` continues it).
public struct StoreUnavailable: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var waited: Double

    public init(message: String, waited: Double) {
        self.message = message
        self.waited = waited
    }

    public var description: String {
        "the state store has not recorded anything for \(Int(waited.rounded())) s (\(message))"
    }
}
