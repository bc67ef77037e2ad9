import Foundation
import RunnerCore

/// A clock that moves only when a test moves it (`advance`): its wall and monotonic readings
/// move together. What waits on it (a `FakeLoop`'s timers) is told when it moved.
public final class ManualClock: RunnerCore.Clock, @unchecked Sendable {
    private let lock = Lock()
    private var wall: Date
    private var reading: Double
    private var observers: [@Sendable () -> Void] = []

    /// A fixed instant, whatever the time of day or date the test runs at.
    public init(wall: Date = Date(timeIntervalSince1970: 1_800_000_000), monotonic: Double = 1_000) {
        self.wall = wall
        reading = monotonic
    }

    public func now() -> Date { lock.withLock { wall } }
    public func monotonic() -> Monotonic { lock.withLock { Monotonic(seconds: reading) } }

    /// Moves both readings on by `seconds`, then tells the observers.
    public func advance(by seconds: Double) {
        let observers = lock.withLock {
            wall = wall.addingTimeInterval(seconds)
            reading += seconds
            return self.observers
        }
        for observer in observers { observer() }
    }

    /// `observer` is called after each `advance`.
    public func onAdvance(_ observer: @escaping @Sendable () -> Void) {
        lock.withLock { observers.append(observer) }
    }
}
