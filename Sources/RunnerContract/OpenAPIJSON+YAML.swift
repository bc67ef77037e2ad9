import RunnerYAML

extension OpenAPIJSON {
    /// A YAML document as JSON, its scalars resolved by YAML 1.2's core schema (`200` an
    /// integer, `"200"` a string), its mappings' keys in the order written.
    public init(yaml node: YAMLNode) {
        switch node.content {
        case .mapping(let pairs):
            self = .object(pairs.map { Member(key: $0.name, value: OpenAPIJSON(yaml: $0.value)) })
        case .sequence(let items):
            self = .array(items.map(OpenAPIJSON.init(yaml:)))
        case .scalar(let text, _):
            switch node.resolvedKind {
            case .null: self = .null
            case .bool: self = .bool(text.lowercased() == "true")
            case .int: self = Int(text).map(OpenAPIJSON.int) ?? Double(text).map(OpenAPIJSON.number) ?? .string(text)
            case .float: self = Double(text).map(OpenAPIJSON.number) ?? .string(text)
            case .string, .sequence, .mapping: self = .string(text)
            }
        }
    }
}
