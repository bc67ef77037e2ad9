/// A declared param: its type with the type's constraints, and the contract around it.
public struct ParamSpec: Sendable {
    public var name: Located<String>
    public var kind: ParamKind
    public var description: String?
    public var isRequired: Bool
    public var defaultValue: Located<Value>?
    /// The code reported when the param is missing or invalid (`INVALID_TARGET`).
    public var errorCode: Located<String>?
    public var isSecret: Bool
    public var location: SourceLocation

    public init(name: Located<String>, kind: ParamKind, location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.isRequired = false
        self.isSecret = false
        self.location = location
    }

    /// `PARAM_TARGET_REF` for `targetRef`.
    public var environmentName: String { "PARAM_" + NameRules.environmentName(name.value) }
}

public indirect enum ParamKind: Hashable, Sendable {
    case string(StringRules)
    case int(min: Int?, max: Int?)
    case number(min: Double?, max: Double?)
    case bool
    case enumeration(values: [String])
    case timestamp
    case gitref(repo: String)
    /// A path relative to a root folder, confined to it (checked on disk at each launch).
    case path(PathRules)
    case list(ListRules)

    public struct StringRules: Hashable, Sendable {
        public var minLength: Int?
        public var maxLength: Int?
        /// A regular expression (Swift Regex syntax) the whole value must match.
        public var pattern: String?

        public init(minLength: Int? = nil, maxLength: Int? = nil, pattern: String? = nil) {
            self.minLength = minLength
            self.maxLength = maxLength
            self.pattern = pattern
        }
    }

    public struct PathRules: Hashable, Sendable {
        /// What `must_exist` asks the path to name.
        public enum Kind: String, CaseIterable, Hashable, Sendable {
            case file, directory, any
        }

        public var root: PathRoot
        public var mustExist: Bool
        public var kind: Kind

        public init(root: PathRoot, mustExist: Bool = false, kind: Kind = .any) {
            self.root = root
            self.mustExist = mustExist
            self.kind = kind
        }
    }

    public struct ListRules: Hashable, Sendable {
        public var items: ParamKind
        public var minItems: Int?
        public var maxItems: Int?
        public var isUnique: Bool

        public init(items: ParamKind, minItems: Int? = nil, maxItems: Int? = nil, isUnique: Bool = false) {
            self.items = items
            self.minItems = minItems
            self.maxItems = maxItems
            self.isUnique = isUnique
        }
    }

    public enum TypeName: String, CaseIterable, Sendable {
        case string, int, number, bool
        case enumeration = "enum"
        case timestamp, gitref, path, list
    }

    public var typeName: TypeName {
        switch self {
        case .string: .string
        case .int: .int
        case .number: .number
        case .bool: .bool
        case .enumeration: .enumeration
        case .timestamp: .timestamp
        case .gitref: .gitref
        case .path: .path
        case .list: .list
        }
    }

    /// `list<enum>` and the like, for messages and `plan`.
    public var displayName: String {
        if case .list(let rules) = self { return "list<\(rules.items.displayName)>" }
        return typeName.rawValue
    }

    /// The type an expression sees for a value of this kind.
    public var expressionType: ExpressionType {
        switch self {
        case .bool: .bool
        case .int, .number: .number
        case .string, .enumeration, .timestamp, .gitref, .path: .string
        case .list: .list
        }
    }
}
