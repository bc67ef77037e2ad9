import RunnerCore

/// The keys of one mapping, checked against what the format allows at that place.
struct Fields {
    let node: YAMLNode
    /// Mappings of the format hold a handful of keys: a linear search beats hashing.
    private let pairs: [YAMLPair]

    init(node: YAMLNode, pairs: [YAMLPair]) {
        self.node = node
        self.pairs = pairs
    }

    private func pair(_ key: String) -> YAMLPair? { pairs.first { $0.name == key } }

    subscript(_ key: String) -> YAMLNode? { pair(key)?.value }
    func keyNode(_ key: String) -> YAMLNode? { pair(key)?.key }
    func has(_ key: String) -> Bool { pair(key) != nil }
}

/// Shared machinery of the decoder: typed reads of nodes that report, rather than throw,
/// so one pass finds every problem.
struct DecodingContext {
    let file: String
    var diagnostics: [Diagnostic] = []

    mutating func report(_ code: DiagnosticCode, _ message: String, at location: SourceLocation, length: Int = 1,
                         hint: String? = nil, notes: [Diagnostic.Note] = []) {
        diagnostics.append(Diagnostic(code, message, at: location, length: length, hint: hint ?? code.help, notes: notes))
    }

    /// The fields of a mapping, reporting keys not in `allowed` (with a suggestion) and a
    /// node that is not a mapping.
    mutating func fields(_ node: YAMLNode, _ what: @autoclosure () -> String, allowed: [String], misplaced: [String: String] = [:],
                         allowsExtensions: Bool = false) -> Fields? {
        guard case .mapping(let pairs) = node.content else {
            wrongType(node, what(), expected: "a mapping")
            return nil
        }
        for pair in pairs where !allowed.contains(pair.name) && !(allowsExtensions && pair.name.hasPrefix("x-")) {
            if let reason = misplaced[pair.name] {
                report(.invalidParamSpec, "key '\(pair.name)' \(reason)", at: pair.key.location, length: pair.name.count,
                       hint: "keys of this type: " + allowed.joined(separator: ", "))
                continue
            }
            let hint = Suggestion.hint(for: pair.name, in: allowed) ?? "allowed keys: " + allowed.joined(separator: ", ")
            report(.unknownKey, "unknown key '\(pair.name)' in \(what())", at: pair.key.location, length: max(1, pair.name.count),
                   hint: hint)
        }
        return Fields(node: node, pairs: pairs)
    }

    mutating func require(_ fields: Fields, _ key: String, _ what: @autoclosure () -> String) -> YAMLNode? {
        if let node = fields[key] { return node }
        report(.missingField, "\(what()) is missing required key '\(key)'", at: fields.node.location)
        return nil
    }

    mutating func wrongType(_ node: YAMLNode, _ what: @autoclosure () -> String, expected: String, hint: String? = nil) {
        var hint = hint
        if hint == nil, case .scalar(let text, let style) = node.content {
            if expected == "a string" {
                hint = "quote it to make it a string: \"\(text)\""
            } else if expected.hasPrefix("a list") {
                hint = "write a list: [\(text)]"
            } else if expected == "true or false", style != .plain, ["true", "false"].contains(text.lowercased()) {
                hint = "remove the quotes: \(text.lowercased())"
            } else if expected == "an integer" || expected == "a number", style != .plain, Double(text) != nil {
                hint = "remove the quotes: \(text)"
            }
        }
        report(.wrongType, "\(what()) must be \(expected), not \(node.resolvedKind.description)", at: node.location, hint: hint)
    }

    // MARK: - Scalars

    mutating func string(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<String>? {
        guard node.resolvedKind == .string, let text = node.scalar else {
            wrongType(node, what(), expected: "a string")
            return nil
        }
        return Located(text, at: node.location)
    }

    mutating func string(_ fields: Fields, _ key: String, _ what: @autoclosure () -> String, required: Bool = false) -> Located<String>? {
        guard let node = required ? require(fields, key, what()) : fields[key] else { return nil }
        return string(node, "'\(key)' of \(what())")
    }

    /// Text where numbers and booleans are fine too (environment values).
    mutating func scalarText(_ node: YAMLNode, _ what: @autoclosure () -> String) -> String? {
        guard node.resolvedKind != .sequence, node.resolvedKind != .mapping, node.resolvedKind != .null, let text = node.scalar else {
            wrongType(node, what(), expected: "a string, number or boolean")
            return nil
        }
        return text
    }

    mutating func bool(_ fields: Fields, _ key: String, _ what: @autoclosure () -> String) -> Bool? {
        guard let node = fields[key] else { return nil }
        guard node.resolvedKind == .bool, let text = node.scalar else {
            let hint = ["yes", "no", "on", "off", "y", "n"].contains(node.scalar?.lowercased() ?? "") ? "write true or false" : nil
            wrongType(node, "'\(key)' of \(what())", expected: "true or false", hint: hint)
            return nil
        }
        return text.lowercased() == "true"
    }

    mutating func int(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Int? {
        guard node.resolvedKind == .int, let text = node.scalar, let value = Self.parseInt(text) else {
            wrongType(node, what(), expected: "an integer")
            return nil
        }
        return value
    }

    mutating func int(_ fields: Fields, _ key: String, _ what: @autoclosure () -> String) -> Int? {
        fields[key].flatMap { int($0, "'\(key)' of \(what())") }
    }

    mutating func number(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Double? {
        guard node.resolvedKind == .int || node.resolvedKind == .float, let value = Self.value(of: node).asDouble else {
            wrongType(node, what(), expected: "a number")
            return nil
        }
        return value
    }

    static func parseInt(_ text: String) -> Int? {
        if text.hasPrefix("0x") { return Int(text.dropFirst(2), radix: 16) }
        if text.hasPrefix("0o") { return Int(text.dropFirst(2), radix: 8) }
        return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    /// A scalar or list as a runtime value, by YAML 1.2 core resolution. Mappings are null.
    static func value(of node: YAMLNode) -> Value {
        switch node.content {
        case .sequence(let items): return .list(items.map(value(of:)))
        case .mapping: return .null
        case .scalar(let text, _):
            switch node.resolvedKind {
            case .null: return .null
            case .bool: return .bool(text.lowercased() == "true")
            case .int: return parseInt(text).map(Value.int) ?? .string(text)
            case .float:
                switch text.lowercased() {
                case ".inf", "+.inf": return .number(.infinity)
                case "-.inf": return .number(-.infinity)
                case ".nan": return .number(.nan)
                default: return Double(text).map(Value.number) ?? .string(text)
                }
            default: return .string(text)
            }
        }
    }

    // MARK: - Lists

    /// A list, or a single item where the format allows writing one item bare.
    mutating func list(_ node: YAMLNode, _ what: @autoclosure () -> String, allowSingle: Bool = false) -> [YAMLNode]? {
        if case .sequence(let items) = node.content { return items }
        if allowSingle, node.scalar != nil, node.resolvedKind != .null { return [node] }
        wrongType(node, what(), expected: allowSingle ? "a list or a single value" : "a list")
        return nil
    }

    mutating func stringList(_ node: YAMLNode, _ what: @autoclosure () -> String, allowSingle: Bool = false) -> [Located<String>] {
        guard let items = list(node, what(), allowSingle: allowSingle) else { return [] }
        // Reserved: a needs list may be a whole layer of 100 steps, 90,000 names in a pipeline.
        var strings: [Located<String>] = []
        strings.reserveCapacity(items.count)
        for item in items {
            if let text = string(item, "an item of \(what())") { strings.append(text) }
        }
        return strings
    }

    // MARK: - Durations, enums, expressions

    mutating func duration(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<Duration>? {
        guard node.resolvedKind == .string, let text = node.scalar else {
            let hint = node.resolvedKind == .int ? "add a unit: '\(node.scalar ?? "")s' for seconds" : nil
            wrongType(node, what(), expected: "a duration like '30s' or '2m'", hint: hint)
            return nil
        }
        switch DurationText.parse(text) {
        case .success(let d): return Located(d, at: node.location)
        case .failure(let e):
            report(.invalidDuration, "\(what()): \(e.message)", at: node.location, length: text.count,
                   hint: e.hint ?? DiagnosticCode.invalidDuration.help)
            return nil
        }
    }

    mutating func duration(_ fields: Fields, _ key: String, _ what: @autoclosure () -> String) -> Located<Duration>? {
        fields[key].flatMap { duration($0, "'\(key)' of \(what())") }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ what: @autoclosure () -> String, as: T.Type) -> T? where T.RawValue == String {
        guard let text = string(node, what()) else { return nil }
        if let value = T(rawValue: text.value) { return value }
        let values = T.allCases.map(\.rawValue)
        report(.invalidValue, "\(what()) must be one of \(values.joined(separator: ", ")), not '\(text.value)'", at: node.location,
               length: text.value.count, hint: Suggestion.hint(for: text.value, in: values) ?? DiagnosticCode.invalidValue.help)
        return nil
    }

    mutating func expression(_ node: YAMLNode, _ what: @autoclosure () -> String) -> ParsedExpression? {
        guard node.resolvedKind != .sequence, node.resolvedKind != .mapping, node.resolvedKind != .null,
              let source = node.sourceText else {
            wrongType(node, what(), expected: "an expression")
            return nil
        }
        switch ExpressionParser.parse(source) {
        case .success(let e): return e
        case .failure(let d):
            var d = d
            d.message = "\(what()): \(d.message)"
            diagnostics.append(d)
            return nil
        }
    }

    mutating func cron(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<CronExpression>? {
        guard let text = string(node, what()), let source = node.sourceText else { return nil }
        switch CronExpression.parse(text.value) {
        case .success(let c): return Located(c, at: node.location)
        case .failure(let e):
            report(.invalidCron, "\(what()): \(e.message)", at: source.location(atOffset: e.offset), length: e.length,
                   hint: e.hint ?? DiagnosticCode.invalidCron.help)
            return nil
        }
    }

    mutating func errorCode(_ fields: Fields, _ key: String, _ what: @autoclosure () -> String) -> Located<String>? {
        string(fields, key, what())
    }
}

extension Value {
    var asDouble: Double? {
        switch self {
        case .int(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }
}
