#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials

/// An instant of the monotonic clock (CLOCK_MONOTONIC), in seconds: it never steps when the
/// wall clock is set (an NTP correction, an operator's `date -s`). Every timeout, delay,
/// backoff and lease renewal of the runner is measured with it; only timestamps that are
/// recorded or shown use the wall clock (`Date`).
public struct Monotonic: Comparable, Sendable, Hashable {
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }

    public static func now() -> Monotonic {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Monotonic(seconds: Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
    }

    public static func < (a: Monotonic, b: Monotonic) -> Bool { a.seconds < b.seconds }
    public static func + (a: Monotonic, seconds: Double) -> Monotonic { Monotonic(seconds: a.seconds + seconds) }
    /// Seconds from `b` to `a`.
    public static func - (a: Monotonic, b: Monotonic) -> Double { a.seconds - b.seconds }

    /// Seconds since this instant.
    public var elapsed: Double { Monotonic.now() - self }
}

/// The time an executor's scheduler runs on: the wall clock at the executor's start, moved
/// on by the monotonic clock since. A step of the wall clock mid-run moves none of the run's
/// deadlines, backoff delays or timers; timestamps that are recorded still read the wall clock.
public struct SteadyClock: Sendable {
    private let wall: Date
    private let start: Monotonic
    private let clock: any Clock

    /// Starts now on `clock`.
    public init(_ clock: any Clock = SystemClock()) {
        self.init(wall: clock.now(), start: clock.monotonic(), clock: clock)
    }

    /// Read `wall` when `clock`'s monotonic reading was `start` (now, when not given).
    public init(wall: Date, start: Monotonic? = nil, clock: any Clock = SystemClock()) {
        self.wall = wall
        self.start = start ?? clock.monotonic()
        self.clock = clock
    }

    public func now() -> Date { wall.addingTimeInterval(clock.monotonic() - start) }

    /// Seconds from now until `date` on this clock (never negative).
    public func delay(until date: Date) -> Double { max(0, date.timeIntervalSince(now())) }
}
