#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// A node of a YAML document with where it was written. Aliases share the anchored node.
public final class YAMLNode: Sendable {
    public enum ScalarStyle: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public enum Content: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public let content: Content
    public let location: SourceLocation
    /// A standard tag written explicitly (`!!str`), as its short name (`str`); nil otherwise.
    public let tag: String?
    /// True when the scalar's text maps one-to-one onto columns of a single line.
    public let isColumnExact: Bool
    /// Nodes in this subtree, aliases counted by what they expand to.
    let weight: Int
    /// What YAML 1.2's core schema makes of the node, resolved once when it is built.
    public let resolvedKind: ResolvedKind

    init(_ content: Content, at location: SourceLocation, tag: String?, isColumnExact: Bool = false, weight: Int) {
        self.content = content
        self.location = location
        self.tag = tag
        self.isColumnExact = isColumnExact
        self.weight = weight
        self.resolvedKind = Self.resolve(content, tag: tag)
    }

    /// The scalar's text, if it is a scalar.
    public var scalar: String? {
        if case .scalar(let s, _) = content { return s }
        return nil
    }

    /// The scalar's text with the location of its first character, for diagnostics into it.
    public var sourceText: SourceText? {
        guard case .scalar(let s, let style) = content else { return nil }
        var start = location
        if style == .singleQuoted || style == .doubleQuoted { start.column += 1 }
        return SourceText(s, at: start, isColumnExact: isColumnExact)
    }

    private static func resolve(_ content: Content, tag: String?) -> ResolvedKind {
        switch content {
        case .sequence: return .sequence
        case .mapping: return .mapping
        case .scalar(let s, let style):
            if let tag {
                switch tag {
                case "str": return .string
                case "null": return .null
                case "bool": return .bool
                case "int": return .int
                case "float": return .float
                default: return .string
                }
            }
            guard style == .plain else { return .string }
            return CoreSchema.resolve(s)
        }
    }

    public enum ResolvedKind: String, Sendable {
        case null, bool, int, float, string, sequence, mapping

        public var description: String {
            switch self {
            case .null: "null"
            case .bool: "a boolean"
            case .int: "an integer"
            case .float: "a number"
            case .string: "a string"
            case .sequence: "a list"
            case .mapping: "a mapping"
            }
        }
    }
}

public struct YAMLPair: Sendable {
    public let key: YAMLNode
    public let value: YAMLNode
    /// The key's text (keys are always scalars).
    public let name: String
}

/// YAML 1.2 core schema resolution of plain scalars (not YAML 1.1: `yes`, `on` stay strings).
enum CoreSchema {
    static func resolve(_ s: String) -> YAMLNode.ResolvedKind {
        var s = s
        return s.withUTF8 { resolve(bytes: $0) }
    }

    /// Most scalars are names and words: one look at the first byte settles them, so the
    /// string comparisons below run only for the few that could be null, bool or a number.
    static func resolve(bytes b: UnsafeBufferPointer<UInt8>) -> YAMLNode.ResolvedKind {
        guard let first = b.first else { return .null }
        switch first {
        case UInt8(ascii: "~"):
            return b.count == 1 ? .null : .string
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            return matches(b, ["null", "Null", "NULL"]) ? .null : .string
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
            return matches(b, ["true", "True", "TRUE", "false", "False", "FALSE"]) ? .bool : .string
        case UInt8(ascii: "."):
            if matches(b, [".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"]) { return .float }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            if matches(b, ["+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"]) { return .float }
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            break
        default:
            return .string
        }
        if isInteger(b) { return .int }
        if isFloat(b) { return .float }
        return .string
    }

    private static func matches(_ b: UnsafeBufferPointer<UInt8>, _ words: [StaticString]) -> Bool {
        words.contains { word in
            word.utf8CodeUnitCount == b.count && memcmp(word.utf8Start, b.baseAddress!, b.count) == 0
        }
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    static func isInteger(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if b.count > 2, b[0] == UInt8(ascii: "0"), b[1] == UInt8(ascii: "o") {
            return b[2...].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }
        }
        if b.count > 2, b[0] == UInt8(ascii: "0"), b[1] == UInt8(ascii: "x") {
            return b[2...].allSatisfy { isDigit($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20) }
        }
        var digits = b[...]
        if let f = digits.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy(isDigit)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    static func isFloat(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
        var mantissaDigits = 0
        while i < b.count, isDigit(b[i]) { i += 1; mantissaDigits += 1 }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, isDigit(b[i]) { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return false }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
            var expDigits = 0
            while i < b.count, isDigit(b[i]) { i += 1; expDigits += 1 }
            guard expDigits > 0 else { return false }
        }
        return i == b.count
    }
}
