import RunnerCore
import RunnerJSON

/// A JSON document whose objects keep their keys in the order they were made: the OpenAPI
/// document is read by people as well as tools, and a response schema lists a template's keys
/// as the YAML wrote them. Literals build it: `["type": "string", "enum": ["a", "b"]]`.
public indirect enum OpenAPIJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([OpenAPIJSON])
    case object([Member])

    public struct Member: Equatable, Sendable {
        public var key: String
        public var value: OpenAPIJSON

        public init(key: String, value: OpenAPIJSON) {
            self.key = key
            self.value = value
        }
    }

    /// A member of an object (nil for anything else); set appends a new key, replaces an
    /// existing one in place, and nil removes it.
    public subscript(key: String) -> OpenAPIJSON? {
        get {
            guard case .object(let members) = self else { return nil }
            return members.first { $0.key == key }?.value
        }
        set {
            guard case .object(var members) = self else { return }
            let index = members.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let i?, let value?): members[i].value = value
            case (let i?, nil): members.remove(at: i)
            case (nil, let value?): members.append(Member(key: key, value: value))
            case (nil, nil): break
            }
            self = .object(members)
        }
    }

    /// `{"$ref": "#/components/KIND/NAME"}`.
    public static func ref(_ kind: String, _ name: String) -> OpenAPIJSON {
        ["$ref": .string("#/components/\(kind)/\(name)")]
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var items: [OpenAPIJSON] {
        if case .array(let items) = self { return items }
        return []
    }

    public var members: [Member] {
        if case .object(let members) = self { return members }
        return []
    }

    /// The document as the API answers JSON: pretty, ending with a newline.
    public var bytes: [UInt8] { JSONWriter.document(self) }

    /// A param's or an expression's value, as JSON.
    public init(_ value: RunnerCore.Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .number(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .list(let items): self = .array(items.map(OpenAPIJSON.init))
        }
    }
}

extension OpenAPIJSON: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(dictionaryLiteral elements: (String, OpenAPIJSON)...) {
        self = .object(elements.map { Member(key: $0.0, value: $0.1) })
    }

    public init(arrayLiteral elements: OpenAPIJSON...) { self = .array(elements) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension OpenAPIJSON: JSONWritable {
    public func write(to json: inout JSONWriter) {
        switch self {
        case .null: json.null()
        case .bool(let b): json.bool(b)
        case .int(let i): json.integer(i)
        case .number(let d): json.double(d)
        case .string(let s): json.string(s)
        case .array(let items):
            json.beginArray()
            for item in items { item.write(to: &json) }
            json.endArray()
        case .object(let members):
            json.beginObject()
            for member in members {
                json.key(text: member.key)
                member.value.write(to: &json)
            }
            json.endObject()
        }
    }
}
