/// `api:`: routes against each other and the runner's own API, request mappings against the
/// params, vocabularies against the states, and every template expression against what its
/// place can read — so a contract never answers a runtime `null` for a misspelt field.
extension PipelineValidator {
    /// Paths of the runner's own API a contract route may not take.
    public static let reservedPrefixes = ["/api/v1/pipelines", "/api/v1/runs", "/api/v1/audit", "/api/v1/openapi.json",
                                   "/healthz", "/metrics"]

    mutating func checkContract() {
        guard let contract = pipeline.contract else { return }
        if let vocabulary = contract.runStatuses {
            checkVocabulary(vocabulary, states: RunStatus.allCases.map(\.rawValue), what: "run")
        }
        if let vocabulary = contract.stepStatuses {
            checkVocabulary(vocabulary, states: StepStatus.allCases.map(\.rawValue), what: "step")
        }
        let anyPath = ContractFields.Place(pathParameters: nil, readsError: true)
        if let body = contract.errorBody { checkTemplate(body, place: anyPath, owner: "'api.error_body'") }
        for answer in contract.errors {
            if let body = answer.body { checkTemplate(body, place: anyPath, owner: "'api.errors.\(answer.key.value)'") }
        }
        var seen: [String: SourceLocation] = [:]
        for route in contract.routes {
            let key = route.method.value + " " + route.segments.map(\.shape).joined(separator: "/")
            if let first = seen[key] {
                report(.duplicateRoute, "route \(route.method.value) \(route.path.value) is declared twice",
                       at: route.path.location, notes: [.init("first declared here", at: first)])
            }
            seen[key] = route.path.location
            checkRoute(route)
        }
    }

    private mutating func checkVocabulary(_ vocabulary: StatusVocabulary, states: [String], what: String) {
        for entry in vocabulary.entries where !states.contains(entry.state.value) {
            report(.incompleteStatusMap, "'\(entry.state.value)' is not a \(what) state", at: entry.state.location,
                   hint: Suggestion.hint(for: entry.state.value, in: states) ?? "\(what) states: \(states.joined(separator: ", "))")
        }
        let missing = states.filter { state in !vocabulary.entries.contains { $0.state.value == state } }
        if !missing.isEmpty {
            report(.incompleteStatusMap, "the \(what) status vocabulary has no word for \(missing.joined(separator: ", "))",
                   at: vocabulary.location,
                   hint: "a client must read every state; add e.g. `\(missing[0]): \(vocabulary.entries.first?.word.value ?? "WORD")`")
        }
    }

    private mutating func checkRoute(_ route: ContractRoute) {
        let what = "route \(route.method.value) \(route.path.value)"
        if let reserved = Self.reservedPrefixes.first(where: { route.path.value == $0 || route.path.value.hasPrefix($0 + "/") }) {
            report(.duplicateRoute, "\(what) takes a path of the runner's own API (\(reserved))", at: route.path.location)
        }
        let selectors = route.segments.filter { if case .selector = $0 { true } else { false } }
        if selectors.count > 1 {
            report(.invalidContract, "\(what) has \(selectors.count) selectors; a route takes at most one", at: route.path.location,
                   hint: "one {name=value} picks the pipeline; the others are {name}")
        }
        let names = route.parameterNames
        if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            report(.invalidContract, "\(what) names path parameter '\(twice)' twice", at: route.path.location)
        }
        checkMapping(route, what: what)
        let place = ContractFields.Place(pathParameters: names, readsError: false)
        if let response = route.response {
            checkTemplate(response, place: place, owner: "the response of \(what)", allowsRuns: route.operation.value == .list)
        }
        checkPathParametersUsed(route, what: what)
    }

    private mutating func checkMapping(_ route: ContractRoute, what: String) {
        let operation = route.operation.value
        if operation != .launch, let first = route.params.first {
            report(.invalidContract, "\(what) is a \(operation.rawValue): only a launch maps params", at: first.name.location)
            return
        }
        for (name, source) in route.params {
            if paramsByName[name.value] == nil {
                report(.unmappedParam, "\(what) maps unknown param '\(name.value)'", at: name.location,
                       hint: Suggestion.hint(for: name.value, in: pipeline.params.map(\.name.value))
                           ?? "declare it under `params:`")
            }
            if case .path(let parameter) = source.value, !route.parameterNames.contains(parameter) {
                report(.unmappedParam, "\(what) has no path parameter '\(parameter)'", at: source.location,
                       hint: Suggestion.hint(for: parameter, in: route.parameterNames) ?? "add {\(parameter)} to the path")
            }
        }
        guard operation == .launch, !route.params.isEmpty else { return }
        for spec in pipeline.params where spec.isRequired && spec.defaultValue == nil
            && !route.params.contains(where: { $0.name.value == spec.name.value }) {
            report(.unmappedParam, "\(what) gives required param '\(spec.name.value)' no source", at: route.location,
                   hint: "map it: `params: {\(spec.name.value): body.\(spec.name.value)}`",
                   notes: [.init("declared here", at: spec.name.location)])
        }
    }

    /// Every path parameter is the run's id, a selector, a mapped param, or read by the response.
    private mutating func checkPathParametersUsed(_ route: ContractRoute, what: String) {
        let needsRun = [ContractOperation.show, .cancel, .retry].contains(route.operation.value)
        let runParameter = needsRun ? route.runParameter : nil
        if needsRun, runParameter == nil {
            report(.invalidContract, "\(what) is a \(route.operation.value.rawValue) but its path has no parameter for the run id",
                   at: route.path.location, hint: "e.g. \(route.path.value)/{id}")
        }
        let read = Set(route.response.map(Self.pathReads) ?? [])
        for segment in route.segments {
            guard case .parameter(let name) = segment, name != runParameter, !read.contains(name),
                  !route.params.contains(where: { $0.source.value == .path(name) }) else { continue }
            report(.unusedPathParameter, "path parameter '\(name)' of \(what) is read by nothing", at: route.path.location)
        }
    }

    static func pathReads(_ template: ContractTemplate) -> [String] {
        switch template {
        case .value(let expression): return pathReads(expression)
        case .object(let members): return members.flatMap { pathReads($0.value) }
        case .array(let items): return items.flatMap(pathReads)
        case .each(let loop): return pathReads(loop.item)
        case .choice(let condition, let then, let otherwise):
            return pathReads(condition) + pathReads(then) + (otherwise.map(pathReads) ?? [])
        }
    }

    private static func pathReads(_ expression: ParsedExpression) -> [String] {
        expression.root.references.compactMap {
            guard case .field(let path) = $0.reference, path.count == 3, path[0] == "request", path[1] == "path"
            else { return nil }
            return path[2]
        }
    }

    mutating func checkTemplate(_ template: ContractTemplate, place: ContractFields.Place, owner: String,
                                allowsRuns: Bool = false) {
        switch template {
        case .value(let expression):
            _ = ExpressionChecker.check(expression, in: contractScope(place, owner: owner), expecting: nil)
                .map { diagnostics.append($0) }
        case .object(let members):
            for member in members { checkTemplate(member.value, place: place, owner: "'\(member.key)' of \(owner)", allowsRuns: allowsRuns) }
        case .array(let items):
            for item in items { checkTemplate(item, place: place, owner: owner, allowsRuns: allowsRuns) }
        case .each(let loop):
            checkLoop(loop, place: place, owner: owner, allowsRuns: allowsRuns)
        case .choice(let condition, let then, let otherwise):
            let scope = contractScope(place, owner: "'if' of \(owner)")
            diagnostics += ExpressionChecker.check(condition, in: scope, expecting: .bool)
            checkTemplate(then, place: place, owner: owner, allowsRuns: allowsRuns)
            if let otherwise { checkTemplate(otherwise, place: place, owner: owner, allowsRuns: allowsRuns) }
        }
    }

    private mutating func checkLoop(_ loop: ContractLoop, place: ContractFields.Place, owner: String, allowsRuns: Bool) {
        var inner = place
        switch loop.source.value {
        case .runs:
            if !allowsRuns {
                report(.invalidContract, "\(owner) loops over runs, which only a list route has", at: loop.source.location,
                       hint: "loop over steps or steps.NAME here")
            }
        case .steps:
            inner.readsStep = true
        case .instances(let name):
            inner.readsStep = true
            if graph.indexByName[name] == nil {
                report(.unknownStep, "\(owner) loops over unknown step '\(name)'", at: loop.source.location,
                       hint: Suggestion.hint(for: name, in: stepNames) ?? DiagnosticCode.unknownStep.help)
            }
        }
        for name in loop.only where graph.indexByName[name.value] == nil {
            report(.unknownStep, "'only' of \(owner) names unknown step '\(name.value)'", at: name.location,
                   hint: Suggestion.hint(for: name.value, in: stepNames) ?? DiagnosticCode.unknownStep.help)
        }
        checkTemplate(loop.item, place: inner, owner: "the item of \(owner)", allowsRuns: false)
    }

    private func contractScope(_ place: ContractFields.Place, owner: String) -> ExpressionScope {
        let steps = self.steps, graph = self.graph, names = Set(stepNames)
        var scope = ExpressionScope(
            params: paramsByName,
            steps: { name in
                guard let i = graph.indexByName[name] else { return nil }
                return .init(outputs: steps[i].outputs.map(\.value), isForEach: steps[i].forEach != nil)
            },
            stepNames: stepNames, allowsEnv: false, owner: owner)
        scope.fields = { path in ContractFields.type(of: path, in: place, stepNames: names) }
        scope.fieldNames = ContractFields.names(in: place)
        return scope
    }
}
