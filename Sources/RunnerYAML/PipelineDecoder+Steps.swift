import RunnerCore

extension DecodingContext {
    static let stepKeys = ["name", "description", "run", "shell", "workdir", "env", "needs", "if", "for_each", "timeout", "retry",
                           "errors", "error", "outputs", "commit_point", "continue_on_error", "allow_partial"]

    mutating func decodeSteps(_ node: YAMLNode, _ what: @autoclosure () -> String, section: StepSection) -> [Step] {
        guard let items = list(node, what()) else { return [] }
        return decodeSteps(items.map { ($0, section) }).compactMap { $0 }
    }

    /// Steps are independent of each other: large pipelines decode them on every core, each
    /// chunk with its own diagnostics, merged back in file order.
    mutating func decodeSteps(_ work: [(node: YAMLNode, section: StepSection)]) -> [Step?] {
        let file = self.file
        let chunks = ParallelMap.chunks(of: work.count) { range -> ([Step?], [Diagnostic]) in
            var context = DecodingContext(file: file)
            let steps = work[range].map { context.decodeStep($0.node, section: $0.section) }
            return (steps, context.diagnostics)
        }
        var steps: [Step?] = []
        steps.reserveCapacity(work.count)
        for (decoded, found) in chunks {
            steps += decoded
            diagnostics += found
        }
        return steps
    }

    mutating func decodeStep(_ node: YAMLNode, section: StepSection) -> Step? {
        guard let f = fields(node, "a step", allowed: Self.stepKeys) else { return nil }
        guard let name = string(f, "name", "a step", required: true) else { return nil }
        let owner = "step '\(name.value)'"
        let run = string(f, "run", owner, required: true) ?? Located("", at: node.location)
        checkExecString(run.value, "the `run` of \(owner)", at: run.location)
        var step = Step(name: name, section: section, run: run, location: node.location)
        step.description = string(f, "description", owner)?.value
        step.shell = f["shell"].flatMap { decodeShell($0, "'shell' of \(owner)") }
        step.workdir = string(f, "workdir", owner)
        if let env = f["env"] { step.env = decodeEnvironment(env, "the env of \(owner)") }
        if let needs = f["needs"] { step.needs = stringList(needs, "'needs' of \(owner)", allowSingle: true) }
        if let condition = f["if"] { step.condition = expression(condition, "the `if` of \(owner)") }
        if let forEach = f["for_each"] { step.forEach = decodeForEach(forEach, owner) }
        step.timeout = duration(f, "timeout", owner)
        step.retry = f["retry"].flatMap { decodeRetry($0, "'retry' of \(owner)") }
        if let errors = f["errors"] { step.errors = decodeErrorClasses(errors, "the errors of \(owner)") }
        step.errorCode = string(f, "error", owner)
        if let outputs = f["outputs"] { step.outputs = stringList(outputs, "'outputs' of \(owner)") }
        step.isCommitPoint = bool(f, "commit_point", owner) ?? false
        step.continuesOnError = bool(f, "continue_on_error", owner) ?? false
        step.allowsPartial = bool(f, "allow_partial", owner) ?? false
        return step
    }

    private mutating func decodeForEach(_ node: YAMLNode, _ owner: String) -> ForEach? {
        if case .sequence(let items) = node.content {
            var values: [Located<Value>] = []
            for item in items {
                guard item.scalar != nil, item.resolvedKind != .null else {
                    wrongType(item, "an item of the `for_each` of \(owner)", expected: "a string, number or boolean")
                    continue
                }
                checkExecString(item.scalar ?? "", prefix: "ITEM=", "an item of the `for_each` of \(owner)", at: item.location)
                values.append(Located(Self.value(of: item), at: item.location))
            }
            return .items(values)
        }
        return expression(node, "the `for_each` of \(owner)").map(ForEach.expression)
    }

    mutating func decodeShell(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Shell? {
        if case .sequence = node.content {
            let argv = stringList(node, what())
            for word in argv { checkExecString(word.value, "a word of \(what())", at: word.location) }
            return Shell(argv: argv.map(\.value), location: node.location)
        }
        guard let program = string(node, what()) else { return nil }
        checkExecString(program.value, what(), at: program.location)
        return Shell(program: program.value, location: node.location)
    }

    // MARK: - Retry

    mutating func decodeRetry(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<RetryPolicy>? {
        switch node.resolvedKind {
        case .int:
            return int(node, what()).map { Located(RetryPolicy(attempts: $0), at: node.location) }
        case .string where node.scalar == "none":
            return Located(.none, at: node.location)
        case .mapping:
            return decodeRetryMapping(node, what())
        default:
            report(.wrongType, "\(what()) must be 'none', a number of attempts, or a mapping, not \(node.resolvedKind.description)",
                   at: node.location, hint: "e.g. `retry: 3` or `retry: {attempts: 3, backoff: {initial: 1s}}`")
            return nil
        }
    }

    private mutating func decodeRetryMapping(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<RetryPolicy>? {
        guard let f = fields(node, what(), allowed: ["attempts", "backoff", "at"]) else { return nil }
        var policy = RetryPolicy(attempts: 3)
        if let at = f["at"] {
            if f.has("backoff") {
                report(.conflictingKeys, "\(what()) has both 'at' and 'backoff'", at: f.keyNode("backoff")?.location ?? node.location,
                       hint: "'at' waits until a moment; 'backoff' waits a delay: keep one")
            }
            policy.attempts = RetryPolicy.defaultDeferredAttempts
            policy.deferral = decodeDeferral(at, "'at' of \(what())")
        }
        if let attempts = f["attempts"], let value = int(attempts, "'attempts' of \(what())") { policy.attempts = value }
        if let backoff = f["backoff"], policy.deferral == nil {
            policy.backoff = decodeBackoff(backoff, "'backoff' of \(what())")
        }
        return Located(policy, at: node.location)
    }

    private mutating func decodeDeferral(_ node: YAMLNode, _ what: @autoclosure () -> String) -> RetryPolicy.Deferral? {
        guard let text = string(node, what()) else { return nil }
        switch text.value {
        case "next_day_utc": return .nextDayUTC
        case "next_hour_utc": return .nextHourUTC
        default:
            if !text.value.contains(" ") && !text.value.hasPrefix("@") {
                report(.invalidValue, "\(what()) must be next_day_utc, next_hour_utc or a cron expression, not '\(text.value)'",
                       at: node.location, length: text.value.count,
                       hint: Suggestion.hint(for: text.value, in: ["next_day_utc", "next_hour_utc"]) ?? "e.g. `at: \"0 0 * * *\"`")
                return nil
            }
            return cron(node, what()).map { .cron($0.value) }
        }
    }

    private mutating func decodeBackoff(_ node: YAMLNode, _ what: @autoclosure () -> String) -> RetryPolicy.Backoff {
        var backoff = RetryPolicy.Backoff.standard
        guard let f = fields(node, what(), allowed: ["initial", "factor", "max", "jitter"]) else { return backoff }
        if let d = duration(f, "initial", what()) { backoff.initial = d.value }
        if let d = duration(f, "max", what()) {
            backoff.max = d.value
        } else if !f.has("max"), backoff.initial > backoff.max {
            backoff.max = backoff.initial
        }
        if let factor = f["factor"], let value = number(factor, "'factor' of \(what())") { backoff.factor = value }
        if let jitter = f["jitter"], let value = choice(jitter, "'jitter' of \(what())", as: RetryPolicy.Backoff.Jitter.self) {
            backoff.jitter = value
        }
        return backoff
    }

    // MARK: - Error classes

    mutating func decodeErrorClasses(_ node: YAMLNode, _ what: @autoclosure () -> String) -> [ErrorClass] {
        guard let items = list(node, what()) else { return [] }
        return items.compactMap { decodeErrorClass($0, what()) }
    }

    private mutating func decodeErrorClass(_ node: YAMLNode, _ what: @autoclosure () -> String) -> ErrorClass? {
        let owner = "an error class of \(what())"
        guard let f = fields(node, owner, allowed: ["exit_codes", "stderr", "timeout", "code", "message", "retry"]),
              let code = string(f, "code", owner, required: true) else { return nil }
        var errorClass = ErrorClass(code: code, location: node.location)
        if let exits = f["exit_codes"], let items = list(exits, "'exit_codes' of \(owner)", allowSingle: true) {
            errorClass.exitCodes = items.compactMap { int($0, "an exit code of \(owner)") }
        }
        errorClass.stderrPattern = string(f, "stderr", owner)
        errorClass.matchesTimeout = bool(f, "timeout", owner) ?? false
        errorClass.message = string(f, "message", owner)?.value
        errorClass.retry = f["retry"].flatMap { decodeRetry($0, "'retry' of error class \(code.value)") }
        if f.has("timeout"), !errorClass.matchesTimeout {
            report(.ineffectiveSetting, "'timeout: false' in \(owner) has no effect", at: f.keyNode("timeout")!.location,
                   hint: "remove it; a class matches timeouts only with `timeout: true`")
        }
        return errorClass
    }
}
