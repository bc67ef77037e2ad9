import FoundationEssentials

/// How an attempt ended, as the classifier needs it.
public struct AttemptEnd: Hashable, Sendable {
    public enum Reason: Hashable, Sendable {
        case exited(code: Int32)
        case signalled(Int32)
        case timedOut
        /// The runner itself died while the attempt ran; found on resume.
        case interrupted
        /// The process could not be started at all.
        case launchFailed(String)
    }

    public var reason: Reason
    /// The end of the attempt's stderr, for `stderr` matchers and the error message.
    public var stderrTail: String

    public init(_ reason: Reason, stderrTail: String = "") {
        self.reason = reason
        self.stderrTail = stderrTail
    }

    public var isSuccess: Bool { reason == .exited(code: 0) }

    public var exitCode: Int32? {
        if case .exited(let code) = reason { return code }
        return nil
    }

    public var signal: Int32? {
        if case .signalled(let s) = reason { return s }
        return nil
    }
}

/// Picks the error class of a failed attempt: the first class, in `StepPolicy` order, all of
/// whose matchers match.
public enum ErrorClassifier {
    public struct Verdict: Sendable {
        public var code: String
        public var message: String
        public var retry: RetryPolicy
    }

    public static func classify(_ end: AttemptEnd, policy: StepPolicy) -> Verdict {
        let chosen = policy.errorClasses.first { matches($0, end) } ?? policy.errorClasses[policy.errorClasses.count - 1]
        return Verdict(code: chosen.code, message: chosen.message ?? describe(end), retry: chosen.retry)
    }

    static func matches(_ c: StepPolicy.ResolvedClass, _ end: AttemptEnd) -> Bool {
        if !c.exitCodes.isEmpty {
            guard let code = end.exitCode, c.exitCodes.contains(Int(code)) else { return false }
        }
        if c.matchesTimeout, end.reason != .timedOut { return false }
        if let pattern = c.stderrPattern, !PatternCache.shared.matches(pattern, in: end.stderrTail) { return false }
        return true
    }

    /// The message of a failure without a class message: the last line of stderr when there
    /// is one, else what happened.
    public static func describe(_ end: AttemptEnd) -> String {
        let lastLine = end.stderrTail.split(whereSeparator: \.isNewline).last.map(String.init)?
            .trimmingSpaces()
        switch end.reason {
        case .exited(let code):
            return lastLine.flatMap { $0.isEmpty ? nil : String($0.prefix(500)) } ?? "exited with status \(code)"
        case .signalled(let signal):
            return "killed by signal \(signal)"
        case .timedOut:
            return "timed out"
        case .interrupted:
            return "interrupted: the runner stopped while the attempt ran"
        case .launchFailed(let why):
            return "could not start: \(why)"
        }
    }
}

/// Compiled stderr patterns, shared: classification runs on every failed attempt.
final class PatternCache: @unchecked Sendable {
    static let shared = PatternCache()
    private let lock = Lock()
    private var cache: [String: RegularExpression?] = [:]

    func matches(_ pattern: String, in text: String) -> Bool {
        lock.lock()
        let regex: RegularExpression?
        if let cached = cache[pattern] {
            regex = cached
        } else {
            regex = try? RegularExpression(pattern)
            cache[pattern] = regex
        }
        lock.unlock()
        return regex?.isFound(in: text) ?? false
    }
}
