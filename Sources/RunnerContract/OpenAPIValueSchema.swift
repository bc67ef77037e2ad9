/// What one value of a template can be, as far as it is known before any run: its JSON types,
/// the only values it takes (an enum), bounds of a number, the pattern of a string. Values of
/// two branches (`c ? a : b`, `a ?? b`) join: types add up, a constraint stays only where every
/// branch that can be of its type has it.
struct OpenAPIValueSchema: Equatable {
    enum Kind: String, Comparable {
        case string, integer, number, boolean, array, null

        static func < (a: Kind, b: Kind) -> Bool { a.order < b.order }

        private var order: Int { [.string, .integer, .number, .boolean, .array, .null].firstIndex(of: self) ?? 0 }
    }

    /// Nil: any JSON value.
    var kinds: Set<Kind>?
    /// The only values taken, nil: any of the kinds.
    var values: [OpenAPIJSON]?
    var minimum: Int?
    var maximum: Int?
    var pattern: String?
    /// The schema of a list's items.
    var items: OpenAPIJSON?

    static let any = OpenAPIValueSchema(kinds: nil)
    static let null = OpenAPIValueSchema(kinds: [.null], values: [.null])
    static let string = OpenAPIValueSchema(kinds: [.string])
    static let boolean = OpenAPIValueSchema(kinds: [.boolean])

    static func words(_ words: [String]) -> OpenAPIValueSchema {
        OpenAPIValueSchema(kinds: [.string], values: OpenAPIGenerator.distinct(words).map(OpenAPIJSON.string))
    }

    static func integer(_ minimum: Int?, _ maximum: Int?) -> OpenAPIValueSchema {
        OpenAPIValueSchema(kinds: [.integer], minimum: minimum, maximum: maximum)
    }

    var isNullable: Bool { kinds?.contains(.null) ?? true }

    /// Also `null`.
    var orNull: OpenAPIValueSchema { joined(with: .null) }

    /// Without `null` (the value of `a ?? b` that is not null).
    var withoutNull: OpenAPIValueSchema {
        guard var kinds else { return self }
        kinds.remove(.null)
        var copy = self
        copy.kinds = kinds
        copy.values = values?.filter { $0 != .null }
        return copy
    }

    func joined(with other: OpenAPIValueSchema) -> OpenAPIValueSchema {
        guard let mine = kinds, let theirs = other.kinds else { return .any }
        var joined = OpenAPIValueSchema(kinds: mine.union(theirs))
        if let a = values, let b = other.values { joined.values = OpenAPIGenerator.distinct(a + b) }
        let numbers: Set<Kind> = [.integer, .number]
        (joined.minimum, joined.maximum) = Self.shared(
            (minimum, maximum), mine.isDisjoint(with: numbers), (other.minimum, other.maximum),
            theirs.isDisjoint(with: numbers)) ?? (nil, nil)
        joined.pattern = Self.shared(pattern, !mine.contains(.string), other.pattern, !theirs.contains(.string)) ?? nil
        joined.items = Self.shared(items, !mine.contains(.array), other.items, !theirs.contains(.array)) ?? nil
        return joined
    }

    /// A constraint of the join: one side's when the other cannot be of its type, the same on
    /// both, else none (the outer nil).
    private static func shared<T: Equatable>(_ a: T, _ aIsOther: Bool, _ b: T, _ bIsOther: Bool) -> T? {
        if aIsOther { return b }
        if bIsOther || a == b { return a }
        return nil
    }

    private static func shared(_ a: (Int?, Int?), _ aIsOther: Bool, _ b: (Int?, Int?),
                               _ bIsOther: Bool) -> (Int?, Int?)? {
        if aIsOther { return b }
        if bIsOther { return a }
        guard let aMin = a.0, let aMax = a.1, let bMin = b.0, let bMax = b.1 else { return nil }
        return (min(aMin, bMin), max(aMax, bMax))
    }

    var json: OpenAPIJSON {
        guard var kinds else { return [:] }
        if kinds.contains(.number) { kinds.remove(.integer) }
        let names = kinds.sorted().map { OpenAPIJSON.string($0.rawValue) }
        var schema: OpenAPIJSON = ["type": names.count == 1 ? names[0] : .array(names)]
        if let values { schema["enum"] = .array(values) }
        if let minimum { schema["minimum"] = .int(minimum) }
        if let maximum { schema["maximum"] = .int(maximum) }
        if let pattern { schema["pattern"] = .string(pattern) }
        if let items { schema["items"] = items }
        return schema
    }
}
