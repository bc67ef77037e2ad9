/// Maps a failed attempt to an error code and a retry policy (seed 002's upstream table).
public struct ErrorClass: Sendable {
    public var exitCodes: [Int]
    public var stderrPattern: Located<String>?
    public var matchesTimeout: Bool
    public var code: Located<String>
    public var message: String?
    public var retry: Located<RetryPolicy>?
    public var location: SourceLocation

    public init(code: Located<String>, location: SourceLocation) {
        self.exitCodes = []
        self.matchesTimeout = false
        self.code = code
        self.location = location
    }

    /// A class without matchers matches every failure.
    public var isCatchAll: Bool { exitCodes.isEmpty && stderrPattern == nil && !matchesTimeout }

    /// `exit 75`, `stderr /rate/`, `timeout`, `any failure`.
    public var matcherSummary: String {
        Self.describeMatchers(exitCodes: exitCodes, stderrPattern: stderrPattern?.value, matchesTimeout: matchesTimeout)
    }

    static func describeMatchers(exitCodes: [Int], stderrPattern: String?, matchesTimeout: Bool) -> String {
        var parts: [String] = []
        if !exitCodes.isEmpty { parts.append("exit " + exitCodes.map(String.init).joined(separator: "|")) }
        if let stderrPattern { parts.append("stderr /\(stderrPattern)/") }
        if matchesTimeout { parts.append("timeout") }
        return parts.isEmpty ? "any failure" : parts.joined(separator: " and ")
    }
}
