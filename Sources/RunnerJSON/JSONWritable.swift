import RunnerCore

/// A value `JSONWriter` can write: the shapes the CLI prints and the API answers, and what
/// they are made of.
public protocol JSONWritable {
    func write(to json: inout JSONWriter)
}

extension String: JSONWritable {
    public func write(to json: inout JSONWriter) { json.string(self) }
}

extension Int: JSONWritable {
    public func write(to json: inout JSONWriter) { json.integer(self) }
}

extension Int32: JSONWritable {
    public func write(to json: inout JSONWriter) { json.integer(Int(self)) }
}

extension Bool: JSONWritable {
    public func write(to json: inout JSONWriter) { json.bool(self) }
}

extension Double: JSONWritable {
    public func write(to json: inout JSONWriter) { json.double(self) }
}

extension Array: JSONWritable where Element: JSONWritable {
    public func write(to json: inout JSONWriter) { json.array(self) }
}

/// An object, its keys in byte order (as `.sortedKeys` orders them, not as `<` orders strings).
extension Dictionary: JSONWritable where Key == String, Value: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            for (key, value) in sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                json.key(text: key)
                value.write(to: &json)
            }
        }
    }
}

extension JSONValue: JSONWritable {
    public func write(to json: inout JSONWriter) {
        switch self {
        case .null: json.null()
        case .bool(let b): json.bool(b)
        case .int(let i): json.integer(i)
        case .number(let d): json.double(d)
        case .string(let s): json.string(s)
        case .array(let items): json.array(items)
        case .object(let members): members.write(to: &json)
        }
    }
}

/// As its JSON value (a param's value, small).
extension RunnerCore.Value: JSONWritable {
    public func write(to json: inout JSONWriter) { self.json.write(to: &json) }
}
