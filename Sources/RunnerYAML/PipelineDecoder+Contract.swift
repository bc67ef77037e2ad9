import FoundationEssentials
import RunnerCore

/// `api:`: the pipeline's API contract. Shapes are checked here; what the expressions read,
/// the routes' paths against each other and the vocabularies are `PipelineValidator`'s.
extension DecodingContext {
    static let contractKeys = ["auth", "time_format", "statuses", "visibility", "error_body", "errors", "routes"]
    static let routeKeys = ["method", "path", "operation", "status", "params", "unknown_fields", "response", "cancel_wait"]

    mutating func decodeContract(_ node: YAMLNode) -> APIContract? {
        guard let f = fields(node, "'api'", allowed: Self.contractKeys) else { return nil }
        var contract = APIContract(location: node.location)
        if let auth = f["auth"] {
            let schemes = stringList(auth, "'api.auth'", allowSingle: true)
            contract.auth = schemes.compactMap { text in
                choiceValue(text, "'api.auth'", as: APIContract.AuthScheme.self)
            }
        }
        if let format = f["time_format"], let text = string(format, "'api.time_format'") {
            switch TimeFormat.parse(text.value) {
            case .success(let parsed): contract.timeFormat = Located(parsed, at: format.location)
            case .failure(let problem):
                let at = format.sourceText?.location(atOffset: problem.offset) ?? format.location
                report(.invalidContract, "'api.time_format': \(problem.message)", at: at,
                       hint: "e.g. `time_format: \"yyyy-MM-dd'T'HH:mm:ss.SSSxxx\"` (2026-12-07T12:49:35.123+00:00)")
            }
        }
        if let statuses = f["statuses"], let s = fields(statuses, "'api.statuses'", allowed: ["run", "step"]) {
            contract.runStatuses = s["run"].flatMap { vocabulary($0, "'api.statuses.run'") }
            contract.stepStatuses = s["step"].flatMap { vocabulary($0, "'api.statuses.step'") }
        }
        if let visibility = f["visibility"] {
            contract.visibility = choice(visibility, "'api.visibility'", as: APIContract.Visibility.self) ?? .all
        }
        contract.errorBody = f["error_body"].flatMap { template($0, "'api.error_body'") }
        if let errors = f["errors"] { contract.errors = decodeContractErrors(errors) }
        if let routes = f["routes"] {
            contract.routes = (list(routes, "'api.routes'") ?? []).compactMap { decodeRoute($0) }
        } else {
            report(.missingField, "'api' is missing required key 'routes'", at: node.location,
                   hint: "list the routes a client calls: `routes: [{method: POST, path: /api/jobs, operation: launch}]`")
        }
        return contract
    }

    private mutating func choiceValue<T: RawRepresentable & CaseIterable>(_ text: Located<String>, _ what: String,
                                                                          as: T.Type) -> T? where T.RawValue == String {
        if let value = T(rawValue: text.value) { return value }
        let values = T.allCases.map(\.rawValue)
        report(.invalidValue, "\(what) must be one of \(values.joined(separator: ", ")), not '\(text.value)'",
               at: text.location, length: max(1, text.value.count),
               hint: Suggestion.hint(for: text.value, in: values) ?? DiagnosticCode.invalidValue.help)
        return nil
    }

    private mutating func vocabulary(_ node: YAMLNode, _ what: String) -> StatusVocabulary? {
        guard case .mapping(let pairs) = node.content else {
            wrongType(node, what, expected: "a mapping of state: word")
            return nil
        }
        var entries: [(Located<String>, Located<String>)] = []
        for pair in pairs {
            guard let word = string(pair.value, "\(what) '\(pair.name)'") else { continue }
            entries.append((Located(pair.name, at: pair.key.location), word))
        }
        return StatusVocabulary(entries: entries, location: node.location)
    }

    private mutating func decodeContractErrors(_ node: YAMLNode) -> [ContractErrorAnswer] {
        guard case .mapping(let pairs) = node.content else {
            wrongType(node, "'api.errors'", expected: "a mapping of condition or CODE: {status, body}")
            return []
        }
        var answers: [ContractErrorAnswer] = []
        for pair in pairs {
            let key = Located(pair.name, at: pair.key.location)
            let condition = ContractCondition(rawValue: pair.name)
            if condition == nil, !NameRules.isErrorCode(pair.name) {
                let conditions = ContractCondition.allCases.map(\.rawValue)
                report(.invalidContract, "'api.errors' takes a condition or an error code, not '\(pair.name)'",
                       at: pair.key.location, length: max(1, pair.name.count),
                       hint: Suggestion.hint(for: pair.name, in: conditions)
                           ?? "conditions: \(conditions.joined(separator: ", ")); codes are UPPER_CASE")
                continue
            }
            let what = "'api.errors.\(pair.name)'"
            guard let f = fields(pair.value, what, allowed: ["status", "body"]) else { continue }
            var answer = ContractErrorAnswer(key: key, condition: condition)
            answer.status = httpStatus(f, what)
            answer.body = f["body"].flatMap { template($0, "the body of \(what)") }
            answers.append(answer)
        }
        return answers
    }

    mutating func httpStatus(_ f: Fields, _ what: String) -> Located<Int>? {
        guard let node = f["status"], let status = int(node, "'status' of \(what)") else { return nil }
        guard (200...599).contains(status) else {
            report(.invalidContract, "'status' of \(what) must be an HTTP status from 200 to 599, not \(status)",
                   at: node.location, hint: "e.g. 200, 202, 400, 404")
            return nil
        }
        return Located(status, at: node.location)
    }
}
