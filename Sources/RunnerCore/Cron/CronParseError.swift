import FoundationEssentials

/// Why a cron expression was rejected, and where.
public struct CronParseError: Error, Sendable, Hashable {
    /// Lowercase, names the thing: "minute value 61 is out of range 0-59".
    public let message: String
    /// Offset in Characters from the start of the text where the problem is (for a caret).
    public let offset: Int
    /// Length in Characters of the offending part (>= 1).
    public let length: Int
    /// What to do about it, e.g. "minute is 0-59", or "did you mean '@daily'?".
    public let hint: String?

    public init(message: String, offset: Int, length: Int, hint: String? = nil) {
        self.message = message
        self.offset = max(0, offset)
        self.length = max(1, length)
        self.hint = hint
    }
}
