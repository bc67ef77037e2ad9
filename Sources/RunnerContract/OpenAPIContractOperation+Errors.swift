import RunnerCore

/// Every error a contract route can answer: the conditions its operation meets (a launch's
/// params, a show's unknown run, a cancel of a finished run, a refused token, ...), each with
/// the codes it is answered under — for each, the contract's answer for that code or condition
/// (`api.errors`), else its `error_body` with the condition's status, else the runner's
/// `{code, message}` (`ContractError`).
extension OpenAPIContractOperation {
    /// A condition the route can meet, the codes it carries, and whether its answer is about a
    /// run (a conflict's active run, a finished run that cannot be cancelled).
    struct Condition {
        var condition: ContractCondition
        var codes: [String]
        var hasRun = false
    }

    func errorAnswers(_ pipeline: Pipeline, _ route: ContractRoute) -> [Answer] {
        conditions(pipeline, route).flatMap { answers($0, pipeline, route) }
    }

    func conditions(_ pipeline: Pipeline, _ route: ContractRoute) -> [Condition] {
        var all = [Condition(condition: .unauthorized, codes: ["RUN6006"]),
                   Condition(condition: .unavailable, codes: ["RUN4004", "RUN4006"])]
        if role != "viewer" { all.append(Condition(condition: .forbidden, codes: ["RUN6007"])) }
        if route.selector != nil { all.append(Condition(condition: .badRequest, codes: ["RUN6003"])) }
        // A `%2F` in a parameter makes two segments: no route takes the path, and the
        // contract's not-found answers it.
        if !route.parameterNames.isEmpty { all.append(Condition(condition: .notFound, codes: ["RUN6003"])) }
        let notFound = pipeline.triggers.api?.notFoundErrorCode?.value ?? APITrigger.defaultNotFoundErrorCode
        let invalid = Condition(condition: .invalid, codes: pipeline.params.compactMap(\.errorCode?.value)
                                + ["RUN2101", "RUN2102", "RUN2103"])
        let conflicts = pipeline.concurrency.map { $0.onConflict == .reject } ?? false
        let conflict = Condition(condition: .conflict, codes: [pipeline.concurrency?.errorCode?.value
                                     ?? ConcurrencyPolicy.defaultErrorCode], hasRun: true)
        switch route.operation.value {
        case .launch:
            all += [Condition(condition: .badRequest, codes: ["RUN6001", "RUN6010"]), invalid,
                    Condition(condition: .idempotencyKeyInFlight, codes: ["RUN6009"])]
            if conflicts { all.append(conflict) }
            if let policy = pipeline.idempotency, policy.isRequired {
                all.append(Condition(condition: .missingIdempotencyKey,
                                     codes: [policy.errorCode?.value ?? IdempotencyPolicy.defaultErrorCode]))
            }
            if pipeline.idempotency?.scope ?? .key == .key {
                all.append(Condition(condition: .idempotencyKeyReused, codes: ["RUN6008"]))
            }
        case .show:
            all.append(Condition(condition: .notFound, codes: [notFound]))
        case .list:
            all.append(Condition(condition: .badRequest, codes: ["RUN2102"]))
        case .cancel:
            all += [Condition(condition: .notFound, codes: [notFound, APITrigger.defaultNotFoundErrorCode]),
                    Condition(condition: .cannotCancel, codes: ["RUN4002"], hasRun: true)]
        case .retry:
            all += [Condition(condition: .notFound, codes: [notFound]),
                    Condition(condition: .cannotRetry, codes: ["RUN4003"], hasRun: true), invalid]
            if conflicts { all.append(conflict) }
        }
        return all
    }

    /// The answers of one condition: one for each entry of `api.errors` its codes meet (the
    /// code's own, else the condition's), and the condition's own for any other code.
    private func answers(_ met: Condition, _ pipeline: Pipeline, _ route: ContractRoute) -> [Answer] {
        let contract = contract(pipeline)
        var groups: [(answer: ContractErrorAnswer?, codes: [String])] = []
        for code in OpenAPIGenerator.distinct(met.codes as [String?]) + [nil] {
            let answer = contract.answer(for: met.condition, code: code)
            let labels = code.map { ["`\($0)`"] } ?? []
            if let index = groups.firstIndex(where: { $0.answer?.key.value == answer?.key.value }) {
                groups[index].codes += labels
            } else {
                groups.append((answer, labels))
            }
        }
        var facts = OpenAPITemplateSchema(contract: contract, pipeline: pipeline, hasRun: met.hasRun,
                                          paramsAreDeclared: false, hasError: true,
                                          pathParameters: Set(route.parameterNames))
        // Refused before the route read its path (or after, where a shared path takes Basic).
        if met.condition == .unauthorized || met.condition == .forbidden { facts.isPathKnown = false }
        if met.codes == ["RUN6003"], met.condition == .notFound { facts.pathParameters = [] }
        return groups.flatMap { group -> [Answer] in
            let template = group.answer?.body ?? contract.errorBody
            var schema = template.map(facts.schema) ?? .ref("schemas", "ContractError")
            // A store failure may come before the contract's answer is known: the runner's.
            if met.condition == .unavailable { schema = ["anyOf": [schema, .ref("schemas", "Error")]] }
            let codes = group.codes.isEmpty ? "" : " (\(group.codes.joined(separator: ", ")))"
            let description = "`\(met.condition.rawValue)`\(codes)."
            return statuses(met.condition, declared: group.answer?.status?.value).map { status in
                Answer(status: status, description: description, schema: schema,
                       headers: status == 401 ? Self.authenticate : nil)
            }
        }
    }

    private static let authenticate: OpenAPIJSON = [
        "WWW-Authenticate": ["description": "`Bearer`, or `Basic realm=\"runner\"` where the contract takes Basic.",
                             "schema": ["type": "string"]],
    ]

    /// A store failure is answered 503 while it may pass and 500 otherwise, whatever the
    /// contract declares for a refusal that met it.
    private func statuses(_ condition: ContractCondition, declared: Int?) -> [Int] {
        let status = declared ?? condition.defaultStatus
        return condition == .unavailable ? Array(Set([status, 500, 503])).sorted() : [status]
    }
}
