/// A runtime value: of a param, an expression, an output. Params, expressions and the API
/// share this one type so a value means the same thing at every front door.
public enum Value: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case list([Value])

    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .number: "number"
        case .string: "string"
        case .list: "list"
        }
    }

    /// The text a step sees in its environment: bools as `true`/`false`, lists one item a line.
    public var environmentText: String? {
        switch self {
        case .null: nil
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .number(let d): Value.format(d)
        case .string(let s): s
        case .list(let items): items.compactMap(\.environmentText).joined(separator: "\n")
        }
    }

    /// A short display form: strings quoted, lists bracketed.
    public var displayText: String {
        switch self {
        case .null: "null"
        case .string(let s): "\"\(s)\""
        case .list(let items): "[" + items.map(\.displayText).joined(separator: ", ") + "]"
        default: environmentText ?? ""
        }
    }

    static func format(_ d: Double) -> String {
        if d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }
}
