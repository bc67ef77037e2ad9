import RunnerCore

extension DecodingContext {
    mutating func decodeConcurrency(_ node: YAMLNode) -> ConcurrencyPolicy? {
        guard let f = fields(node, "'concurrency'", allowed: ["group", "key", "on_conflict", "error"]) else { return nil }
        var policy = ConcurrencyPolicy(location: node.location)
        policy.group = string(f, "group", "'concurrency'")
        policy.key = f["key"].flatMap { expression($0, "'concurrency.key'") }
        if let n = f["on_conflict"], let value = choice(n, "'on_conflict' of 'concurrency'", as: ConcurrencyPolicy.OnConflict.self) {
            policy.onConflict = value
        }
        policy.errorCode = string(f, "error", "'concurrency'")
        return policy
    }

    mutating func decodeWorkspace(_ node: YAMLNode) -> WorkspaceSpec? {
        guard let f = fields(node, "'workspace'", allowed: ["from"]),
              let from = string(f, "from", "'workspace'", required: true) else { return nil }
        let text = from.value.trimmingSpaces()
        guard text.hasPrefix("params."), text.count > "params.".count else {
            report(.invalidWorkspace, "the workspace is checked out from '\(from.value)', which is not a param", at: from.location,
                   hint: "write `from: params.NAME` where NAME is a gitref param, e.g. `from: params.targetRef`")
            return nil
        }
        return WorkspaceSpec(param: Located(String(text.dropFirst("params.".count)), at: from.location), location: node.location)
    }

    /// `progress: {weights: {STEP: N}}`; the steps and weights are checked by the validator.
    mutating func decodeProgress(_ node: YAMLNode) -> ProgressSpec? {
        guard let f = fields(node, "'progress'", allowed: ["weights"]),
              let weights = require(f, "weights", "'progress'") else { return nil }
        guard case .mapping(let pairs) = weights.content else {
            wrongType(weights, "'progress.weights'", expected: "a mapping of step names to weights")
            return nil
        }
        let entries = pairs.compactMap { pair -> (step: Located<String>, weight: Located<Int>)? in
            let what = "the weight of step '\(pair.name)' in 'progress.weights'"
            guard let weight = int(pair.value, what) else { return nil }
            return (Located(pair.name, at: pair.key.location), Located(weight, at: pair.value.location))
        }
        return ProgressSpec(weights: entries, location: weights.location)
    }

    mutating func decodeIdempotency(_ node: YAMLNode) -> IdempotencyPolicy? {
        guard let f = fields(node, "'idempotency'", allowed: ["required", "ttl", "error", "scope"]) else { return nil }
        var policy = IdempotencyPolicy(location: node.location)
        if let scope = f["scope"] { policy.scope = choice(scope, "'idempotency.scope'", as: IdempotencyPolicy.Scope.self) ?? .key }
        policy.isRequired = bool(f, "required", "'idempotency'") ?? false
        policy.ttl = duration(f, "ttl", "'idempotency'")
        policy.errorCode = string(f, "error", "'idempotency'")
        return policy
    }

    mutating func decodeTriggers(_ node: YAMLNode) -> Triggers {
        var triggers = Triggers()
        guard let f = fields(node, "'triggers'", allowed: ["api", "schedule", "git"]) else { return triggers }
        if let api = f["api"], let a = fields(api, "'triggers.api'", allowed: ["path", "not_found_error"]),
           let path = string(a, "path", "'triggers.api'", required: true) {
            var trigger = APITrigger(path: path)
            trigger.notFoundErrorCode = string(a, "not_found_error", "'triggers.api'")
            triggers.api = trigger
        }
        if let schedule = f["schedule"], let items = list(schedule, "'triggers.schedule'") {
            triggers.schedules = items.compactMap { decodeSchedule($0) }
        }
        if let git = f["git"] { triggers.git = decodeGit(git) }
        return triggers
    }

    private mutating func decodeSchedule(_ node: YAMLNode) -> ScheduleTrigger? {
        let owner = "a schedule"
        guard let f = fields(node, owner, allowed: ["cron", "timezone", "params"]),
              let cronNode = require(f, "cron", owner), let cron = cron(cronNode, "'cron' of \(owner)") else { return nil }
        var trigger = ScheduleTrigger(cron: cron, location: node.location)
        trigger.timezone = string(f, "timezone", owner)
        if let params = f["params"] {
            if case .mapping(let pairs) = params.content {
                trigger.params = pairs.compactMap { pair in
                    if case .mapping = pair.value.content {
                        wrongType(pair.value, "schedule param '\(pair.name)'", expected: "a value")
                        return nil
                    }
                    return (Located(pair.name, at: pair.key.location), Located(Self.value(of: pair.value), at: pair.value.location))
                }
            } else {
                wrongType(params, "'params' of \(owner)", expected: "a mapping of param names to values")
            }
        }
        return trigger
    }

    private mutating func decodeGit(_ node: YAMLNode) -> GitTrigger? {
        let owner = "'triggers.git'"
        guard let f = fields(node, owner, allowed: ["events", "refs", "param"]) else { return nil }
        var trigger = GitTrigger(location: node.location)
        if let events = f["events"], let items = list(events, "'events' of \(owner)", allowSingle: true) {
            trigger.events = items.compactMap { choice($0, "an event of \(owner)", as: GitTrigger.Event.self) }
            if items.isEmpty {
                report(.invalidGitTrigger, "the git trigger lists no events", at: events.location, hint: "e.g. events: [post-receive]")
            }
        } else if !f.has("events") {
            report(.invalidGitTrigger, "the git trigger lists no events", at: node.location, hint: "e.g. events: [post-receive]")
        }
        if let refs = f["refs"] { trigger.refs = stringList(refs, "'refs' of \(owner)", allowSingle: true) }
        trigger.param = string(f, "param", owner)
        return trigger
    }
}
