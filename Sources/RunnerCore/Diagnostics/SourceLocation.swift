import FoundationEssentials

/// A position in a source file: 1-based line and column (columns count Unicode scalars).
/// Every node of a pipeline carries one, so it is three plain integers: the file is an
/// interned id, and copying a location never touches a reference count.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var fileID: SourceFileID
    private var storedLine: Int32
    private var storedColumn: Int32

    public init(fileID: SourceFileID, line: Int, column: Int) {
        self.fileID = fileID
        self.storedLine = Int32(clamping: line)
        self.storedColumn = Int32(clamping: column)
    }

    public var line: Int {
        get { Int(storedLine) }
        set { storedLine = Int32(clamping: newValue) }
    }

    public var column: Int {
        get { Int(storedColumn) }
        set { storedColumn = Int32(clamping: newValue) }
    }

    public init(file: String, line: Int, column: Int) {
        self.init(fileID: SourceFileID(file), line: line, column: column)
    }

    public var file: String { fileID.path }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        if lhs.fileID != rhs.fileID { return lhs.file < rhs.file }
        return (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// An interned file path. The table only grows; a process reads a handful of files.
public struct SourceFileID: Hashable, Sendable {
    let raw: Int32

    public init(_ path: String) { raw = SourceFileTable.shared.intern(path) }

    public var path: String { SourceFileTable.shared.path(raw) }
}

final class SourceFileTable: @unchecked Sendable {
    static let shared = SourceFileTable()
    private let lock = Lock()
    private var paths: [String] = []
    private var ids: [String: Int32] = [:]

    func intern(_ path: String) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let id = ids[path] { return id }
        let id = Int32(paths.count)
        paths.append(path)
        ids[path] = id
        return id
    }

    func path(_ id: Int32) -> String {
        lock.lock()
        defer { lock.unlock() }
        return paths.indices.contains(Int(id)) ? paths[Int(id)] : "?"
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

    /// The location of the character at `offset` (in Unicode scalars from the start of
    /// `text`, as columns count).
    public func location(atOffset offset: Int) -> SourceLocation {
        guard isColumnExact, offset > 0 else { return location }
        var shifted = location
        shifted.column += offset
        return shifted
    }
}
