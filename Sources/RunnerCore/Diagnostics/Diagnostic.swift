/// A problem found in a pipeline or its inputs. Diagnostics are data: one renderer in the CLI
/// turns them into text, the server sends them as JSON.
public struct Diagnostic: Hashable, Sendable {
    public enum Severity: String, Hashable, Sendable, Comparable {
        case error
        case warning

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            lhs == .error && rhs == .warning
        }
    }

    /// A secondary location that helps explain the problem ("first defined here").
    public struct Note: Hashable, Sendable {
        public var message: String
        public var location: SourceLocation?

        public init(_ message: String, at location: SourceLocation? = nil) {
            self.message = message
            self.location = location
        }
    }

    public var code: DiagnosticCode
    /// The pipeline's own error code for this problem, when it declares one (a param's
    /// `error: INVALID_TARGET`). Shown instead of `code` so clients see their contract.
    public var contractCode: String?
    public var severity: Severity
    public var message: String
    public var location: SourceLocation?
    /// Length of the offending text, for the caret underline (at least 1).
    public var length: Int
    public var hint: String?
    public var notes: [Note]
    /// What the diagnostic is about when there is no source location (`params.target_types`).
    public var subject: String?

    public init(
        _ code: DiagnosticCode,
        _ message: String,
        at location: SourceLocation? = nil,
        length: Int = 1,
        hint: String? = nil,
        notes: [Note] = [],
        severity: Severity? = nil,
        contractCode: String? = nil,
        subject: String? = nil
    ) {
        self.code = code
        self.message = message
        self.location = location
        self.length = max(1, length)
        self.hint = hint
        self.notes = notes
        self.severity = severity ?? code.defaultSeverity
        self.contractCode = contractCode
        self.subject = subject
    }

    /// The code a user sees: the pipeline's contract code when set, else the runner's.
    public var displayCode: String { contractCode ?? code.rawValue }

    public var isError: Bool { severity == .error }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.isError } }

    /// Sorted by file, line, column; unlocated diagnostics last; stable otherwise.
    public func sortedByLocation() -> [Diagnostic] {
        enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case let (la?, lb?) where la != lb: return la < lb
            case (.some, .none): return true
            case (.none, .some): return false
            default: return a.offset < b.offset
            }
        }.map(\.element)
    }
}
extension Diagnostic: Error {}
