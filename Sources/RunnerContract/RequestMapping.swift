import FoundationEssentials
import RunnerCore

/// A contract launch's params, read from the request as its route maps them: nested body
/// paths, every item of a list (`body.targets[*].app.id`), path and query parameters. What the
/// mapping cannot read is a located problem for the contract's error answer — never a crash,
/// never a launch.
public enum RequestMapping {
    public struct Problem: Error, Equatable, Sendable {
        public var condition: ContractCondition
        public var message: String
        /// The param concerned, whose `error` code the answer carries.
        public var param: String?

        public init(condition: ContractCondition, message: String, param: String?) {
            self.condition = condition
            self.message = message
            self.param = param
        }
    }

    /// The params of `route` from the request; params with no value in it are left out (the
    /// launch then reports a missing required param with its code).
    public static func params(_ route: ContractRoute, body: [UInt8], path: [String: String],
                              query: (String) -> String?) -> Result<[String: Value], Problem> {
        let document: JSONValue
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            document = .object([:])
        } else {
            guard let parsed = JSONValue.parse(body), case .object = parsed else {
                return .failure(Problem(condition: .badRequest, message: "the body is not a JSON object", param: nil))
            }
            document = parsed
        }
        if route.params.isEmpty { return flat(document) }
        var params: [String: Value] = [:]
        for (name, source) in route.params {
            switch source.value {
            case .path(let parameter):
                if let value = path[parameter] { params[name.value] = .string(value) }
            case .query(let parameter):
                if let value = query(parameter) { params[name.value] = .string(value) }
            case .body(let steps):
                switch read(document, steps[...], at: "body") {
                case .success(let value?): params[name.value] = value
                case .success(nil): break
                case .failure(let shape):
                    return .failure(Problem(condition: .invalid, message: shape.message, param: name.value))
                }
            }
        }
        if route.unknownFields == .reject, let unknown = unknownField(document, route: route) {
            return .failure(Problem(condition: .badRequest, message: "unknown field '\(unknown)' in the body", param: nil))
        }
        return .success(params)
    }

    /// No mapping: the body is a flat object of param values.
    private static func flat(_ document: JSONValue) -> Result<[String: Value], Problem> {
        guard case .object(let members) = document else { return .success([:]) }
        var params: [String: Value] = [:]
        for (key, member) in members {
            guard let value = value(of: member) else {
                return .failure(Problem(condition: .invalid, message: "'\(key)' must be a string, number, boolean "
                                        + "or list of them, not an object", param: key))
            }
            params[key] = value
        }
        return .success(params)
    }

    /// The value at `steps` (nil: absent), or why the body's shape does not allow reading it.
    private static func read(_ node: JSONValue, _ steps: ArraySlice<BodyPathStep>, at where: String)
        -> Result<Value?, ShapeError> {
        guard let step = steps.first else {
            guard let leaf = value(of: node) else { return .failure(ShapeError(message: "\(`where`) must be a value, not an object")) }
            return .success(leaf)
        }
        switch step {
        case .key(let key):
            if case .null = node { return .success(nil) }
            guard case .object(let members) = node else {
                return .failure(ShapeError(message: "\(`where`) must be an object with '\(key)', not \(describe(node))"))
            }
            guard let member = members[key] else { return .success(nil) }
            return read(member, steps.dropFirst(), at: "\(`where`).\(key)")
        case .each:
            guard case .array(let items) = node else { return .failure(ShapeError(message: "\(`where`) must be a list, not \(describe(node))")) }
            var values: [Value] = []
            for (index, item) in items.enumerated() {
                switch read(item, steps.dropFirst(), at: "\(`where`)[\(index)]") {
                case .success(let value?): values.append(value)
                case .success(nil): return .failure(ShapeError(message: "\(`where`)[\(index)] has no \(rest(steps.dropFirst()))"))
                case .failure(let shape): return .failure(shape)
                }
            }
            return .success(.list(values))
        }
    }

    struct ShapeError: Error {
        var message: String
    }

    private static func rest(_ steps: ArraySlice<BodyPathStep>) -> String {
        String(steps.map(\.description).joined().dropFirst())
    }

    static func value(of json: JSONValue) -> Value? {
        switch json {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .number(let d): .number(d)
        case .string(let s): .string(s)
        case .array(let items):
            items.allSatisfy({ if case .array = $0 { false } else if case .object = $0 { false } else { true } })
                ? .list(items.compactMap(value(of:))) : nil
        case .object: nil
        }
    }

    private static func describe(_ json: JSONValue) -> String {
        switch json {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    /// The first body field no mapped path reads (`a.b`), if any.
    static func unknownField(_ document: JSONValue, route: ContractRoute) -> String? {
        let paths = route.params.compactMap { if case .body(let steps) = $0.source.value { steps } else { nil } }
        return unknown(document, paths.map { $0[...] }, prefix: "")
    }

    private static func unknown(_ node: JSONValue, _ paths: [ArraySlice<BodyPathStep>], prefix: String) -> String? {
        // A path that ends here reads everything below.
        if paths.contains(where: \.isEmpty) { return nil }
        switch node {
        case .object(let members):
            for key in members.keys.sorted() {
                let below = paths.compactMap { path -> ArraySlice<BodyPathStep>? in
                    if case .key(key)? = path.first { return path.dropFirst() }
                    return nil
                }
                let name = prefix.isEmpty ? key : "\(prefix).\(key)"
                if below.isEmpty { return name }
                if let found = unknown(members[key] ?? .null, below, prefix: name) { return found }
            }
        case .array(let items):
            let below = paths.compactMap { path -> ArraySlice<BodyPathStep>? in
                if case .each? = path.first { return path.dropFirst() }
                return nil
            }
            for (index, item) in items.enumerated() {
                if let found = unknown(item, below, prefix: "\(prefix)[\(index)]") { return found }
            }
        default:
            break
        }
        return nil
    }
}
