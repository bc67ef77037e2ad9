/// A position in a source file: 1-based line and column (columns count Unicode scalars).
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// A value together with where it was written.
public struct Located<Value> {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

extension Located: Sendable where Value: Sendable {}
extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}

/// Text of a scalar with the location of its first character, so that diagnostics about a
/// part of it (an expression token, a cron field) can point at the exact column.
public struct SourceText: Hashable, Sendable {
    public var text: String
    /// Location of the first character of `text`.
    public var location: SourceLocation
    /// False when the text spans lines or contains escapes, so offsets do not map to columns.
    public var isColumnExact: Bool

    public init(_ text: String, at location: SourceLocation, isColumnExact: Bool = true) {
        self.text = text
        self.location = location
        self.isColumnExact = isColumnExact
    }

    /// The location of the character at `offset` (in Characters from the start of `text`).
    public func location(atOffset offset: Int) -> SourceLocation {
        guard isColumnExact, offset > 0 else { return location }
        var shifted = location
        shifted.column += text.prefix(offset).unicodeScalars.count
        return shifted
    }
}
