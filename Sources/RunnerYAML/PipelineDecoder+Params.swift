import RunnerCore

extension DecodingContext {
    static let commonParamKeys = ["type", "description", "required", "default", "error", "secret"]

    static func paramKeys(for type: ParamKind.TypeName) -> [String] {
        switch type {
        case .string: ["min_length", "max_length", "pattern"]
        case .int, .number: ["min", "max"]
        case .enumeration: ["values"]
        case .gitref: ["repo"]
        case .path: ["root", "must_exist", "kind"]
        case .list: ["items", "min_items", "max_items", "unique"]
        case .bool, .timestamp: []
        }
    }

    /// Which type each type-specific key belongs to, for "does not apply" messages.
    static let keyOwners: [String: String] = {
        var owners: [String: String] = [:]
        for type in ParamKind.TypeName.allCases {
            for key in paramKeys(for: type) { owners[key, default: ""] += owners[key] == nil ? type.rawValue : "/\(type.rawValue)" }
        }
        return owners
    }()

    mutating func decodeParams(_ node: YAMLNode) -> [ParamSpec] {
        guard case .mapping(let pairs) = node.content else {
            wrongType(node, "'params'", expected: "a mapping of param names to declarations")
            return []
        }
        return pairs.compactMap { decodeParam($0) }
    }

    private mutating func decodeParam(_ pair: YAMLPair) -> ParamSpec? {
        let name = Located(pair.name, at: pair.key.location)
        let owner = "param '\(pair.name)'"
        if let typeName = pair.value.scalar, ParamKind.TypeName(rawValue: typeName) != nil {
            report(.wrongType, "\(owner) must be a mapping, not a bare type name", at: pair.value.location,
                   hint: "write `\(pair.name): {type: \(typeName)}`")
            return ParamSpec(name: name, kind: .string(.init()), location: pair.value.location)
        }
        guard case .mapping(let rawPairs) = pair.value.content else {
            wrongType(pair.value, owner, expected: "a mapping like {type: string}")
            return nil
        }
        let typeNode = rawPairs.first { $0.name == "type" }?.value
        let typeName = typeNode.flatMap { choice($0, "'type' of \(owner)", as: ParamKind.TypeName.self) }
        if typeNode == nil { report(.missingField, "\(owner) is missing required key 'type'", at: pair.value.location,
                                    hint: "types: " + ParamKind.TypeName.allCases.map(\.rawValue).joined(separator: ", ")) }
        let specific = typeName.map { Self.paramKeys(for: $0) } ?? Self.keyOwners.keys.sorted()
        var misplaced: [String: String] = [:]
        if let typeName {
            for (key, types) in Self.keyOwners where !specific.contains(key) {
                misplaced[key] = "does not apply to a \(typeName.rawValue) param (it is for \(types))"
            }
        }
        guard let f = fields(pair.value, owner, allowed: Self.commonParamKeys + specific, misplaced: misplaced) else { return nil }
        let kind = typeName.map { decodeKind($0, f, owner: owner) } ?? .string(.init())
        var spec = ParamSpec(name: name, kind: kind, location: pair.value.location)
        spec.description = string(f, "description", owner)?.value
        spec.isRequired = bool(f, "required", owner) ?? false
        spec.isSecret = bool(f, "secret", owner) ?? false
        spec.errorCode = string(f, "error", owner)
        if let node = f["default"] {
            if case .mapping = node.content {
                wrongType(node, "the default of \(owner)", expected: "a value of the param's type")
            } else {
                spec.defaultValue = Located(Self.value(of: node), at: node.location)
            }
        }
        return spec
    }

    private mutating func decodeKind(_ type: ParamKind.TypeName, _ f: Fields, owner: String) -> ParamKind {
        switch type {
        case .string:
            return .string(.init(minLength: int(f, "min_length", owner), maxLength: int(f, "max_length", owner),
                                 pattern: string(f, "pattern", owner)?.value))
        case .int:
            return .int(min: int(f, "min", owner), max: int(f, "max", owner))
        case .number:
            return .number(min: f["min"].flatMap { number($0, "'min' of \(owner)") },
                           max: f["max"].flatMap { number($0, "'max' of \(owner)") })
        case .bool: return .bool
        case .timestamp: return .timestamp
        case .enumeration:
            guard let node = require(f, "values", owner) else { return .enumeration(values: []) }
            if case .sequence(let items) = node.content, items.isEmpty {
                report(.invalidParamSpec, "'values' of \(owner) is empty: an enum needs at least one value", at: node.location,
                       hint: "list the allowed values, like `values: [staging, production]`")
            }
            return .enumeration(values: stringList(node, "'values' of \(owner)").map(\.value))
        case .gitref:
            return .gitref(repo: string(f, "repo", owner)?.value ?? ".")
        case .path:
            return .path(decodePathRules(f, owner: owner))
        case .list:
            let items: ParamKind
            if let node = require(f, "items", owner) {
                items = decodeItems(node, owner: owner)
            } else {
                items = .string(.init())
            }
            return .list(.init(items: items, minItems: int(f, "min_items", owner), maxItems: int(f, "max_items", owner),
                               isUnique: bool(f, "unique", owner) ?? false))
        }
    }

    /// `items: string` or `items: {type: enum, values: [...]}`.
    private mutating func decodeItems(_ node: YAMLNode, owner: String) -> ParamKind {
        let what = "the items of \(owner)"
        if node.scalar != nil {
            guard let type = choice(node, what, as: ParamKind.TypeName.self) else { return .string(.init()) }
            if type == .enumeration {
                report(.invalidParamSpec, "\(what): an enum needs values", at: node.location,
                       hint: "write `items: {type: enum, values: [a, b]}`")
                return .enumeration(values: [])
            }
            if type == .path {
                report(.missingField, "\(what): a path needs a root", at: node.location,
                       hint: "write `items: {type: path, root: DIR}`")
            }
            return emptyKind(type)
        }
        let typeNode: YAMLNode? = { if case .mapping(let p) = node.content { return p.first { $0.name == "type" }?.value } else { return nil } }()
        guard let typeNode, let type = choice(typeNode, "'type' of \(what)", as: ParamKind.TypeName.self) else {
            if case .mapping = node.content, typeNode == nil { report(.missingField, "\(what) is missing required key 'type'", at: node.location) }
            else if case .mapping = node.content {} else { wrongType(node, what, expected: "a type name or a mapping") }
            return .string(.init())
        }
        guard let f = fields(node, what, allowed: ["type", "description"] + Self.paramKeys(for: type)) else { return .string(.init()) }
        return decodeKind(type, f, owner: what)
    }

    private func emptyKind(_ type: ParamKind.TypeName) -> ParamKind {
        switch type {
        case .string: .string(.init())
        case .int: .int(min: nil, max: nil)
        case .number: .number(min: nil, max: nil)
        case .bool: .bool
        case .enumeration: .enumeration(values: [])
        case .timestamp: .timestamp
        case .gitref: .gitref(repo: ".")
        case .path: .path(.init(root: PathRoot.pipelineFolder))
        case .list: .list(.init(items: .string(.init())))
        }
    }
}

extension DecodingContext {
    /// `root` (required, its `${...}` and `{actor}` parsed here), `must_exist`, `kind`.
    mutating func decodePathRules(_ f: Fields, owner: String) -> ParamKind.PathRules {
        var root = PathRoot.pipelineFolder
        if let node = f["root"] {
            if let text = string(node, "'root' of \(owner)") {
                switch PathRoot.parse(text.value) {
                case .success(let parsed): root = parsed
                case .failure(let problem):
                    report(.invalidPathRoot, "\(owner): \(problem.message)", at: node.location, hint: problem.hint)
                }
            }
        } else {
            report(.missingField, "\(owner) is missing required key 'root'", at: f.node.location,
                   hint: "a path param is relative to a root folder: `root: \"${STORAGE_DIR:-data}/{actor}\"`")
        }
        let kind = f["kind"].flatMap { choice($0, "'kind' of \(owner)", as: ParamKind.PathRules.Kind.self) }
        return ParamKind.PathRules(root: root, mustExist: bool(f, "must_exist", owner) ?? false, kind: kind ?? .any)
    }
}
