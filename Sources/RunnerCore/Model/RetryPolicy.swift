/// How often and when a failed step is tried again.
public struct RetryPolicy: Hashable, Sendable {
    public struct Backoff: Hashable, Sendable {
        public enum Jitter: String, CaseIterable, Hashable, Sendable {
            case none, full, equal
        }

        public var initial: Duration
        public var factor: Double
        public var max: Duration
        public var jitter: Jitter

        public init(initial: Duration = .seconds(1), factor: Double = 2, max: Duration = .seconds(30), jitter: Jitter = .none) {
            self.initial = initial
            self.factor = factor
            self.max = max
            self.jitter = jitter
        }

        public static let standard = Backoff()
    }

    /// A deferred retry: the run waits until this moment, then tries again.
    public enum Deferral: Hashable, Sendable, CustomStringConvertible {
        case nextDayUTC
        case nextHourUTC
        case cron(CronExpression)

        public var description: String {
            switch self {
            case .nextDayUTC: "next_day_utc"
            case .nextHourUTC: "next_hour_utc"
            case .cron(let c): c.source
            }
        }
    }

    /// Attempts in all, including the first. At least 1.
    public var attempts: Int
    public var backoff: Backoff
    public var deferral: Deferral?

    public init(attempts: Int, backoff: Backoff = .standard, deferral: Deferral? = nil) {
        self.attempts = attempts
        self.backoff = backoff
        self.deferral = deferral
    }

    /// One attempt, no retry.
    public static let none = RetryPolicy(attempts: 1)

    public static let defaultDeferredAttempts = 2

    public var isNone: Bool { attempts <= 1 }

    /// `none`, `3 attempts, backoff 1s×2 ≤30s`, `2 attempts at next_day_utc`.
    public var summary: String {
        if isNone { return "none" }
        if let deferral { return "\(attempts) attempts, deferred to \(deferral)" }
        let b = backoff
        var text = "\(attempts) attempts, backoff \(DurationText.format(b.initial))×\(Value.format(b.factor)) ≤\(DurationText.format(b.max))"
        if b.jitter != .none { text += " jitter \(b.jitter.rawValue)" }
        return text
    }
}
