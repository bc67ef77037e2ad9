/// A regular expression as pipelines write them (a string param's `pattern`, an error class's
/// `stderr`), compiled by the standard library's engine (Swift Regex: the syntax of PCRE and
/// ICU, matched by Unicode scalar as ICU does).
public struct RegularExpression: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    /// An empty pattern, which would match everything (ICU rejected it too).
    public struct EmptyPattern: Error, CustomStringConvertible {
        public var description: String { "it is empty" }
    }

    /// Throws when `pattern` is not a valid regular expression.
    public init(_ pattern: String) throws {
        guard !pattern.isEmpty else { throw EmptyPattern() }
        regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
    }

    /// Why `pattern` does not compile (the engine's words, e.g. "lookbehind is not currently
    /// supported"), nil when it does.
    public static func problem(in pattern: String) -> String? {
        do {
            _ = try RegularExpression(pattern)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// True when the whole of `text` matches.
    public func matchesWhole(_ text: String) -> Bool {
        ((try? regex.wholeMatch(in: text)) ?? nil) != nil
    }

    /// True when a match is found anywhere in `text`.
    public func isFound(in text: String) -> Bool {
        ((try? regex.firstMatch(in: text)) ?? nil) != nil
    }
}
