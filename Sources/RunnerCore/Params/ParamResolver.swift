import FoundationEssentials

/// A param value as given: text from the command line (`-p k=v`), or a typed value from a
/// JSON body, a params file or a schedule.
public enum ParamInput: Hashable, Sendable {
    case text(String)
    case value(Value)
}

/// Checks given params against their declarations and applies defaults. Every problem is
/// reported, with the param's own error code when it declares one.
public enum ParamResolver {
    public struct Resolution: Sendable {
        public var values: [String: Value]
        public var diagnostics: [Diagnostic]
    }

    public static func resolve(_ inputs: [(name: String, input: ParamInput)], against specs: [ParamSpec]) -> Resolution {
        var values: [String: Value] = [:]
        var diagnostics: [Diagnostic] = []
        let byName = Dictionary(specs.map { ($0.name.value, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        for (name, input) in inputs {
            guard let spec = byName[name] else {
                diagnostics.append(Diagnostic(
                    .unexpectedParam, "unknown param '\(name)'",
                    hint: Suggestion.hint(for: name, in: specs.map(\.name.value))
                        ?? (specs.isEmpty ? "this pipeline takes no params" : "params: " + specs.map(\.name.value).joined(separator: ", ")),
                    subject: "params.\(name)"))
                continue
            }
            guard seen.insert(name).inserted else {
                diagnostics.append(Diagnostic(.invalidParam, "param '\(name)' is given more than once",
                                              contractCode: spec.errorCode?.value, subject: "params.\(name)"))
                continue
            }
            switch validate(input, for: spec) {
            case .success(let value): values[name] = value
            case .failure(let problem): diagnostics.append(invalid(spec, problem, input: input))
            }
        }
        for spec in specs where values[spec.name.value] == nil && !seen.contains(spec.name.value) {
            if let d = spec.defaultValue {
                values[spec.name.value] = d.value
            } else if spec.isRequired {
                diagnostics.append(Diagnostic(
                    .missingParam, "missing required param '\(spec.name.value)' (\(spec.kind.displayName))",
                    hint: "pass it: -p \(spec.name.value)=VALUE",
                    contractCode: spec.errorCode?.value, subject: "params.\(spec.name.value)"))
            }
        }
        return Resolution(values: values, diagnostics: diagnostics)
    }

    /// The value a step will see for `input`, or why there is none. The value must also fit
    /// its environment variable (see `ParamResolver+Environment`); the size is checked before
    /// the kind's rules, so a pattern never runs over more than that.
    public static func validate(_ input: ParamInput, for spec: ParamSpec) -> Result<Value, Problem> {
        if let problem = nulProblem(in: input) { return .failure(problem) }
        switch coerce(input, to: spec.kind) {
        case .success(let value):
            // Again on the value: a JSON array given as text (`-p 'k=["a\u0000"]'`) has its NULs only once parsed.
            if let problem = nulProblem(in: .value(value)) ?? sizeProblem(value, for: spec) ?? check(value, against: spec.kind) {
                return .failure(problem)
            }
            return .success(value)
        case .failure(let problem):
            return .failure(problem)
        }
    }

    private static func invalid(_ spec: ParamSpec, _ problem: Problem, input: ParamInput) -> Diagnostic {
        var message = "param '\(spec.name.value)': \(problem.message)", hint = problem.hint
        if spec.isSecret {
            // The value given, in every form a problem may quote it, is never echoed.
            let masker = SecretMasker(renderings(of: input))
            message = masker.mask(message)
            hint = hint.map(masker.mask)
        }
        return Diagnostic(problem.code, message, hint: hint, contractCode: spec.errorCode?.value, subject: "params.\(spec.name.value)")
    }

    /// The forms in which a problem may quote an input: as given, escaped, displayed, and
    /// each item of a list.
    static func renderings(of input: ParamInput) -> [String] {
        func forms(_ value: Value) -> [String] {
            var out = [value.displayText]
            if let text = value.environmentText { out += [text, text.debugDescription] }
            if case .list(let items) = value { out += items.flatMap(forms) }
            return out
        }
        switch input {
        case .text(let text):
            return [text, text.debugDescription] + text.split(separator: ",").flatMap { [String($0), String($0).debugDescription] }
        case .value(let value):
            return forms(value)
        }
    }

    public struct Problem: Error, Hashable, Sendable {
        public var message: String
        public var hint: String?
        public var code: DiagnosticCode
        public init(_ message: String, hint: String? = nil, code: DiagnosticCode = .invalidParam) {
            self.message = message
            self.hint = hint
            self.code = code
        }
    }

    /// Turns an input into a value of the kind, or says why it cannot.
    public static func coerce(_ input: ParamInput, to kind: ParamKind) -> Result<Value, Problem> {
        switch input {
        case .value(let value): coerce(value: value, to: kind)
        case .text(let text): coerce(text: text, to: kind)
        }
    }

    private static func coerce(text: String, to kind: ParamKind) -> Result<Value, Problem> {
        switch kind {
        case .string, .enumeration, .gitref, .path:
            return coerce(value: .string(text), to: kind)
        case .int:
            guard let i = Int(text.trimmingSpaces()) else {
                return .failure(Problem("'\(text)' is not an integer"))
            }
            return .success(.int(i))
        case .number:
            guard let d = Double(text.trimmingSpaces()), d.isFinite else {
                return .failure(Problem("'\(text)' is not a number"))
            }
            return .success(.number(d))
        case .bool:
            switch text {
            case "true": return .success(.bool(true))
            case "false": return .success(.bool(false))
            default: return .failure(Problem("'\(text)' is not a boolean", hint: "write true or false"))
            }
        case .timestamp:
            return coerce(value: .string(text), to: kind)
        case .list(let rules):
            let trimmed = text.trimmingSpaces()
            if trimmed.hasPrefix("[") {
                guard let array = try? JSONDecoder().decode([Value].self, from: Data(trimmed.utf8)) else {
                    return .failure(Problem("'\(text)' is not a JSON array", hint: "write -p k=a,b or -p 'k=[\"a\",\"b\"]'"))
                }
                return coerce(value: .list(array), to: kind)
            }
            let parts = trimmed.isEmpty ? [] : trimmed.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingSpaces() }
            var items: [Value] = []
            for part in parts {
                switch coerce(text: part, to: rules.items) {
                case .success(let v): items.append(v)
                case .failure(let p): return .failure(Problem("item '\(part)': \(p.message)", hint: p.hint))
                }
            }
            return .success(.list(items))
        }
    }

    private static func coerce(value: Value, to kind: ParamKind) -> Result<Value, Problem> {
        switch (kind, value) {
        case (.string, .string), (.enumeration, .string), (.gitref, .string), (.path, .string), (.bool, .bool),
             (.int, .int), (.number, .number):
            return .success(value)
        case (.number, .int(let i)):
            return .success(.number(Double(i)))
        case (.int, .number(let d)) where d.rounded() == d && abs(d) < 9e15:
            return .success(.int(Int(d)))
        case (.timestamp, .string(let s)):
            switch Timestamp.normalize(s) {
            case .success(let normalized): return .success(.string(normalized))
            case .failure(let e): return .failure(Problem(e.message, hint: e.hint))
            }
        case (.list(let rules), .list(let items)):
            var out: [Value] = []
            for (n, item) in items.enumerated() {
                switch coerce(value: item, to: rules.items) {
                case .success(let v): out.append(v)
                case .failure(let p): return .failure(Problem("item \(n + 1): \(p.message)", hint: p.hint))
                }
            }
            return .success(.list(out))
        case (.list(let rules), .string), (.list(let rules), .int), (.list(let rules), .number), (.list(let rules), .bool):
            return .failure(Problem("expected a list of \(rules.items.displayName), got \(value.typeName) \(value.displayText)"))
        default:
            return .failure(Problem("expected \(kind.displayName), got \(value.typeName) \(value.displayText)"))
        }
    }

    /// Checks a value of the right type against the kind's rules.
    public static func check(_ value: Value, against kind: ParamKind) -> Problem? {
        switch (kind, value) {
        case (.string(let rules), .string(let s)):
            let count = s.count
            if let min = rules.minLength, count < min { return Problem("must be at least \(min) characters, got \(count)") }
            if let max = rules.maxLength, count > max { return Problem("must be at most \(max) characters, got \(count)") }
            if let pattern = rules.pattern, !matchesWhole(s, pattern: pattern) {
                return Problem("'\(s)' does not match the pattern \(pattern)")
            }
        case (.int(let min, let max), .int(let i)):
            if let min, i < min { return Problem("must be at least \(min), got \(i)") }
            if let max, i > max { return Problem("must be at most \(max), got \(i)") }
        case (.number(let min, let max), .number(let d)):
            if let min, d < min { return Problem("must be at least \(Value.format(min)), got \(Value.format(d))") }
            if let max, d > max { return Problem("must be at most \(Value.format(max)), got \(Value.format(d))") }
        case (.enumeration(let values), .string(let s)):
            if !values.contains(s) {
                return Problem("'\(s)' is not one of \(values.joined(separator: ", "))",
                               hint: Suggestion.hint(for: s, in: values))
            }
        case (.gitref, .string(let s)):
            if s.isEmpty { return Problem("a git ref cannot be empty") }
            if s.count > 255 { return Problem("a git ref is at most 255 characters") }
            if s.hasPrefix("-") { return Problem("'\(s)' is not a git ref: it starts with '-'") }
            if s.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
                return Problem("'\(s.debugDescription)' is not a git ref: it contains whitespace or control characters")
            }
        case (.path, .string(let s)):
            return relativePathProblem(s)
        case (.list(let rules), .list(let items)):
            if let min = rules.minItems, items.count < min {
                return Problem(items.isEmpty ? "must not be empty (at least \(min) item\(min == 1 ? "" : "s"))" : "must have at least \(min) items, got \(items.count)")
            }
            if let max = rules.maxItems, items.count > max { return Problem("must have at most \(max) items, got \(items.count)") }
            if rules.isUnique {
                var seen = Set<Value>()
                for item in items where !seen.insert(item).inserted {
                    return Problem("item \(item.displayText) appears more than once")
                }
            }
            for item in items {
                if let text = item.environmentText, text.contains("\n") {
                    return Problem("list items cannot contain a newline")
                }
                if let p = check(item, against: rules.items) { return Problem("item \(item.displayText): \(p.message)", hint: p.hint) }
            }
        default:
            break
        }
        return nil
    }

    public static func matchesWhole(_ s: String, pattern: String) -> Bool {
        guard let regex = try? RegularExpression(pattern) else { return false }
        return regex.matchesWhole(s)
    }
}

extension Value: Codable {
    /// JSON: null, booleans, numbers (integers stay `.int`), strings and arrays. Objects are
    /// not values of any param type and are refused.
    public init(from decoder: any Decoder) throws {
        guard let value = Value(json: try JSONValue(from: decoder)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "objects are not param values"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }

    /// The value as JSON.
    public var json: JSONValue {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .number(let d): .number(d)
        case .string(let s): .string(s)
        case .list(let items): .array(items.map(\.json))
        }
    }

    /// The param value `json` is; nil for an object, or a list holding one.
    public init?(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .number(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .array(let items):
            var values: [Value] = []
            values.reserveCapacity(items.count)
            for item in items {
                guard let value = Value(json: item) else { return nil }
                values.append(value)
            }
            self = .list(values)
        case .object: return nil
        }
    }
}
