import RunnerCore

/// A declared param as JSON Schema: what a request may send (every rule the launch checks
/// before anything runs: bounds, lengths, the pattern, enum values, list sizes), and what a
/// response shows of it (`params.X`: its type and values).
enum OpenAPIParamSchema {
    /// The value a request sends, with the declaration's description and default.
    static func request(_ spec: ParamSpec) -> OpenAPIJSON {
        var schema = request(spec.kind)
        if let description = spec.description { schema["description"] = .string(description) }
        if let value = spec.defaultValue?.value, !spec.isSecret { schema["default"] = OpenAPIJSON(value) }
        if spec.isSecret { schema["writeOnly"] = true }
        return schema
    }

    static func request(_ kind: ParamKind) -> OpenAPIJSON {
        switch kind {
        case .string(let rules):
            var schema: OpenAPIJSON = ["type": "string"]
            if let min = rules.minLength { schema["minLength"] = .int(min) }
            if let max = rules.maxLength { schema["maxLength"] = .int(max) }
            // The runner matches the whole value; JSON Schema's pattern matches anywhere in it.
            if let pattern = rules.pattern { schema["pattern"] = .string("^(?:\(pattern))$") }
            return schema
        case .int(let min, let max): return bounded("integer", min.map(OpenAPIJSON.int), max.map(OpenAPIJSON.int))
        case .number(let min, let max):
            return bounded("number", min.map(OpenAPIJSON.number), max.map(OpenAPIJSON.number))
        case .bool: return ["type": "boolean"]
        case .enumeration(let values): return ["type": "string", "enum": .array(values.map(OpenAPIJSON.string))]
        case .timestamp:
            return ["type": "string",
                    "description": "an ISO 8601 date or date-time (`2026-01-05`, `2026-01-05T09:00:00+09:00`)"]
        case .gitref:
            return ["type": "string", "minLength": 1, "maxLength": 255, "description": "a git ref: branch, tag, commit"]
        case .path(let rules):
            let exists = rules.mustExist ? ", which must exist" : ""
            let description = "a relative path below the param's root (no `..`, `.` or empty segment)\(exists)"
            return ["type": "string", "minLength": 1, "description": .string(description)]
        case .list(let rules):
            var schema: OpenAPIJSON = ["type": "array", "items": request(rules.items)]
            listRules(rules, into: &schema)
            return schema
        }
    }

    /// minItems, maxItems and uniqueItems of a list param, on the array that holds its items.
    static func listRules(_ rules: ParamKind.ListRules, into schema: inout OpenAPIJSON) {
        if let min = rules.minItems { schema["minItems"] = .int(min) }
        if let max = rules.maxItems { schema["maxItems"] = .int(max) }
        if rules.isUnique { schema["uniqueItems"] = true }
    }

    private static func bounded(_ type: OpenAPIJSON, _ min: OpenAPIJSON?, _ max: OpenAPIJSON?) -> OpenAPIJSON {
        var schema: OpenAPIJSON = ["type": type]
        if let min { schema["minimum"] = min }
        if let max { schema["maximum"] = max }
        return schema
    }

    /// `params.X` of a run: the run's value (secret ones `***`), `null` when it has none.
    static func value(_ spec: ParamSpec) -> OpenAPIValueSchema {
        if spec.isSecret { return .words(["***"]) }
        let value = value(spec.kind)
        return spec.isRequired || spec.defaultValue != nil ? value : value.orNull
    }

    private static func value(_ kind: ParamKind) -> OpenAPIValueSchema {
        switch kind {
        case .string, .timestamp, .gitref, .path: .string
        case .int: .integer(nil, nil)
        case .number: OpenAPIValueSchema(kinds: [.number])
        case .bool: .boolean
        case .enumeration(let values): .words(values)
        case .list(let rules): OpenAPIValueSchema(kinds: [.array], items: value(rules.items).json)
        }
    }
}
