import FoundationEssentials

/// Where the engine reads the time: the wall clock for what it records and shows, the
/// monotonic clock for what it measures (deadlines, delays, how long something has waited).
/// The engine takes one (`SystemClock` by default) so that tests drive it with a clock moved
/// by hand instead of waiting; the two readings of one clock move together.
public protocol Clock: Sendable {
    /// The wall clock: timestamps that are recorded or shown.
    func now() -> Date
    /// The monotonic clock: never steps when the wall clock is set.
    func monotonic() -> Monotonic
}

/// The system's clocks: `Date()` and CLOCK_MONOTONIC.
public struct SystemClock: Clock {
    public init() {}

    public func now() -> Date { Date() }
    public func monotonic() -> Monotonic { Monotonic.now() }
}

extension Clock {
    /// Seconds on the monotonic clock since `start`.
    public func elapsed(since start: Monotonic) -> Double { monotonic() - start }
}
