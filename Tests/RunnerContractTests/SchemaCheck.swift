import RunnerContract
import RunnerCore

/// The part of JSON Schema the generated document uses, checked in Swift: what a rendered
/// answer breaks of a generated schema, so a test holds them together without Python.
struct SchemaCheck {
    /// The document `$ref`s point into.
    var document: OpenAPIJSON

    func problems(_ instance: JSONValue, _ schema: OpenAPIJSON, at path: String = "") -> [String] {
        if case .string(let ref)? = schema["$ref"] { return problems(instance, resolve(ref), at: path) }
        var found: [String] = []
        if let types = schema["type"], !Self.types(types).contains(where: { Self.matches(instance, type: $0) }) {
            return ["\(path): \(instance) is not of type \(Self.types(types))"]
        }
        if case .array(let values)? = schema["enum"], !values.contains(where: { Self.equal(instance, $0) }) {
            found.append("\(path): \(instance) is not one of \(values)")
        }
        if case .array(let options)? = schema["anyOf"] {
            // None passing: what the closest one says.
            let each = options.map { problems(instance, $0, at: path) }
            if !each.contains(where: \.isEmpty) { found += each.min { $0.count < $1.count } ?? [] }
        }
        found += bounds(instance, schema, at: path)
        switch instance {
        case .object(let members): found += object(members, schema, at: path)
        case .array(let items): found += array(items, schema, at: path)
        default: break
        }
        return found
    }

    private func object(_ members: [String: JSONValue], _ schema: OpenAPIJSON, at path: String) -> [String] {
        var found: [String] = []
        if case .array(let required)? = schema["required"] {
            for case .string(let key) in required where members[key] == nil { found.append("\(path): no '\(key)'") }
        }
        let properties = schema["properties"]?.members ?? []
        for (key, value) in members {
            if let property = properties.first(where: { $0.key == key }) {
                found += problems(value, property.value, at: "\(path)/\(key)")
            } else if schema["additionalProperties"] == .bool(false) {
                found.append("\(path): '\(key)' is not allowed")
            }
        }
        return found
    }

    private func array(_ items: [JSONValue], _ schema: OpenAPIJSON, at path: String) -> [String] {
        var found: [String] = []
        if case .int(let min)? = schema["minItems"], items.count < min { found.append("\(path): under \(min) items") }
        if case .int(let max)? = schema["maxItems"], items.count > max { found.append("\(path): over \(max) items") }
        let prefix: [OpenAPIJSON] = if case .array(let prefix)? = schema["prefixItems"] { prefix } else { [] }
        for (index, item) in items.enumerated() {
            guard let itemSchema = index < prefix.count ? prefix[index] : schema["items"] else { continue }
            found += problems(item, itemSchema, at: "\(path)/\(index)")
        }
        return found
    }

    private func bounds(_ instance: JSONValue, _ schema: OpenAPIJSON, at path: String) -> [String] {
        var found: [String] = []
        let number: Double? = switch instance {
        case .int(let i): Double(i)
        case .number(let d): d
        default: nil
        }
        if let number, case .int(let min)? = schema["minimum"], number < Double(min) {
            found.append("\(path): below \(min)")
        }
        if let number, case .int(let max)? = schema["maximum"], number > Double(max) {
            found.append("\(path): above \(max)")
        }
        if case .string(let text) = instance, case .string(let pattern)? = schema["pattern"] {
            let matches = (try? Regex(pattern)).map { text.contains($0) } ?? false
            if !matches { found.append("\(path): '\(text)' does not match \(pattern)") }
        }
        return found
    }

    private func resolve(_ ref: String) -> OpenAPIJSON {
        ref.dropFirst(2).split(separator: "/").reduce(document) { node, key in node[String(key)] ?? .null }
    }

    private static func types(_ json: OpenAPIJSON) -> [String] {
        switch json {
        case .string(let name): [name]
        case .array(let names): names.compactMap(\.string)
        default: []
        }
    }

    private static func matches(_ instance: JSONValue, type: String) -> Bool {
        switch (type, instance) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
             ("integer", .int), ("number", .int), ("number", .number): true
        case ("integer", .number(let d)): d.rounded() == d
        default: false
        }
    }

    private static func equal(_ instance: JSONValue, _ value: OpenAPIJSON) -> Bool {
        switch (instance, value) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.int(let a), .number(let b)), (.number(let b), .int(let a)): Double(a) == b
        case (.number(let a), .number(let b)): a == b
        default: false
        }
    }
}
