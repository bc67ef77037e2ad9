import RunnerCore

/// A launch's body as JSON Schema, built from where its route reads each param: nested
/// objects from `body.a.b`, arrays from `body.t[*].x` (whose items must hold the rest of the
/// path), the param's declaration at the leaf. Without a mapping the body is the flat object
/// of params. A required param without a default makes each key on its way required; every
/// object refuses other keys where the route rejects unknown fields (as the request mapping
/// and the launch do: `bad_request`, or an unknown param).
indirect enum OpenAPIRequestBody {
    case leaf(OpenAPIJSON)
    case object([(key: String, value: OpenAPIRequestBody)], required: [String])
    case array(OpenAPIRequestBody, rules: ParamKind.ListRules?)

    /// The body schema of a launch of `pipeline` through `route` (nil: an alias route, whose
    /// body is the flat object of params), and whether a body is required; nil when the route
    /// reads nothing from the body.
    static func schema(_ pipeline: Pipeline, route: ContractRoute?) -> (schema: OpenAPIJSON, isRequired: Bool)? {
        var body = OpenAPIRequestBody.object([], required: [])
        var isRequired = false
        for (name, steps) in sources(pipeline, route) {
            guard let spec = pipeline.param(named: name) else { continue }
            let needed = spec.isRequired && spec.defaultValue == nil
            isRequired = isRequired || needed
            body.insert(spec, at: steps[...], isRequired: needed)
        }
        if case .object(let members, _) = body, members.isEmpty { return nil }
        // A flat body's other keys are params the launch does not know, whatever the route says.
        let rejects = route.map { $0.params.isEmpty || $0.unknownFields == .reject } ?? true
        return (body.json(rejectingUnknown: rejects), isRequired)
    }

    /// Each param the body gives, and its path in the body.
    private static func sources(_ pipeline: Pipeline, _ route: ContractRoute?) -> [(String, [BodyPathStep])] {
        guard let route, !route.params.isEmpty else {
            return pipeline.params.map { ($0.name.value, [.key($0.name.value)]) }
        }
        return route.params.compactMap { mapping in
            if case .body(let steps) = mapping.source.value { (mapping.name.value, steps) } else { nil }
        }
    }

    private mutating func insert(_ spec: ParamSpec, at steps: ArraySlice<BodyPathStep>, isRequired: Bool,
                                 isInList: Bool = false) {
        guard let step = steps.first else {
            // Below `[*]` a list param gives one item per element.
            if isInList, case .list(let rules) = spec.kind {
                self = .leaf(OpenAPIParamSchema.request(rules.items))
            } else {
                self = .leaf(OpenAPIParamSchema.request(spec))
            }
            return
        }
        switch step {
        case .key(let key):
            var members: [(key: String, value: OpenAPIRequestBody)] = []
            var required: [String] = []
            if case .object(let existing, let keys) = self { (members, required) = (existing, keys) }
            let index = members.firstIndex { $0.key == key } ?? {
                members.append((key, .object([], required: [])))
                return members.count - 1
            }()
            members[index].value.insert(spec, at: steps.dropFirst(), isRequired: isRequired, isInList: isInList)
            if isRequired, !required.contains(key) { required.append(key) }
            self = .object(members, required: required)
        case .each:
            var item = OpenAPIRequestBody.object([], required: [])
            var rules: ParamKind.ListRules?
            if case .array(let existing, let existingRules) = self { (item, rules) = (existing, existingRules) }
            // Every item must hold the rest of the path: one without it is refused.
            item.insert(spec, at: steps.dropFirst(), isRequired: true, isInList: true)
            if !isInList, case .list(let listRules) = spec.kind { rules = rules ?? listRules }
            self = .array(item, rules: rules)
        }
    }

    private func json(rejectingUnknown: Bool) -> OpenAPIJSON {
        switch self {
        case .leaf(let schema):
            return schema
        case .object(let members, let required):
            var schema: OpenAPIJSON = ["type": "object"]
            schema["properties"] = .object(members.map {
                OpenAPIJSON.Member(key: $0.key, value: $0.value.json(rejectingUnknown: rejectingUnknown))
            })
            if !required.isEmpty { schema["required"] = .array(required.map(OpenAPIJSON.string)) }
            if rejectingUnknown { schema["additionalProperties"] = false }
            return schema
        case .array(let item, let rules):
            var schema: OpenAPIJSON = ["type": "array", "items": item.json(rejectingUnknown: rejectingUnknown)]
            if let rules { OpenAPIParamSchema.listRules(rules, into: &schema) }
            return schema
        }
    }
}
