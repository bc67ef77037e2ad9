import FoundationEssentials
// IANA time zones (TimeZone(identifier:), the known identifiers) come with ICU, from here.
import FoundationInternationalization

extension PipelineValidator {
    mutating func checkParams() {
        var variables: [String: ParamSpec] = [:]
        for spec in pipeline.params {
            let name = spec.name.value
            guard NameRules.isIdentifier(name) else {
                report(.invalidName, "invalid param name '\(name)'", at: spec.name.location, length: name.count,
                       hint: "param names use [A-Za-z_][A-Za-z0-9_]* (they are API body keys and environment names)")
                continue
            }
            if let other = variables[spec.environmentName] {
                report(.invalidEnvName, "params '\(other.name.value)' and '\(name)' would both be $\(spec.environmentName)",
                       at: spec.name.location, length: name.count,
                       hint: "rename one of them",
                       notes: [.init("'\(other.name.value)' is declared here", at: other.name.location)])
            } else {
                variables[spec.environmentName] = spec
            }
            checkKind(spec.kind, of: spec, isItem: false)
            if let code = spec.errorCode { checkErrorCode(code) }
            if let value = spec.defaultValue {
                checkDefault(value, of: spec)
                if spec.isRequired {
                    report(.ineffectiveSetting, "param '\(name)' is required, so its default is never used", at: value.location,
                           hint: "drop `required: true` to make the default apply, or drop the default")
                }
            }
        }
        // A gitref param X also gives steps $PARAM_X_SHA.
        for spec in pipeline.params {
            guard case .gitref = spec.kind, let other = variables[spec.environmentName + "_SHA"] else { continue }
            report(.invalidEnvName, "param '\(other.name.value)' would be $\(spec.environmentName)_SHA, which holds the commit of gitref param '\(spec.name.value)'",
                   at: other.name.location, length: other.name.value.count, hint: "rename '\(other.name.value)'",
                   notes: [.init("'\(spec.name.value)' is declared here", at: spec.name.location)])
        }
    }

    private mutating func checkKind(_ kind: ParamKind, of spec: ParamSpec, isItem: Bool) {
        let owner = isItem ? "the items of param '\(spec.name.value)'" : "param '\(spec.name.value)'"
        let at = spec.location
        switch kind {
        case .string(let rules):
            if let min = rules.minLength, min < 0 { report(.invalidParamSpec, "\(owner): min_length cannot be negative", at: at) }
            if let min = rules.minLength, let max = rules.maxLength, min > max {
                report(.invalidParamSpec, "\(owner): min_length \(min) is greater than max_length \(max)", at: at)
            }
            if let pattern = rules.pattern, let problem = RegularExpression.problem(in: pattern) {
                report(.invalidPattern, "\(owner): pattern '\(pattern)' is not a valid regular expression: \(problem)", at: at)
            }
        case .int(let min, let max):
            if let min, let max, min > max { report(.invalidParamSpec, "\(owner): min \(min) is greater than max \(max)", at: at) }
        case .number(let min, let max):
            if let min, let max, min > max {
                report(.invalidParamSpec, "\(owner): min \(Value.format(min)) is greater than max \(Value.format(max))", at: at)
            }
        case .enumeration(let values):
            // An empty or missing `values` was reported by the decoder, where the list is.
            var seen = Set<String>()
            for value in values where !seen.insert(value).inserted {
                report(.duplicateEntry, "\(owner): enum value '\(value)' is listed twice", at: at, severity: .error)
            }
            if values.contains(where: \.isEmpty) { report(.invalidParamSpec, "\(owner): enum values cannot be empty", at: at) }
        case .list(let rules):
            if isItem || { if case .list = rules.items { return true } else { return false } }() {
                report(.invalidParamSpec, "\(owner): lists of lists are not supported", at: at)
            } else {
                checkKind(rules.items, of: spec, isItem: true)
            }
            if let min = rules.minItems, min < 0 { report(.invalidParamSpec, "\(owner): min_items cannot be negative", at: at) }
            if let min = rules.minItems, let max = rules.maxItems, min > max {
                report(.invalidParamSpec, "\(owner): min_items \(min) is greater than max_items \(max)", at: at)
            }
        case .gitref(let repo):
            if repo.isEmpty { report(.invalidPath, "\(owner): repo is empty", at: at) }
        case .bool, .timestamp, .path:
            break
        }
    }

    private mutating func checkDefault(_ value: Located<Value>, of spec: ParamSpec) {
        let problem: ParamResolver.Problem?
        switch ParamResolver.validate(.value(value.value), for: spec) {
        case .success: problem = nil
        case .failure(let p): problem = p
        }
        if let problem {
            report(.invalidDefault, "default of param '\(spec.name.value)' is invalid: \(problem.message)", at: value.location,
                   hint: problem.hint ?? DiagnosticCode.invalidDefault.help)
        }
    }

    // MARK: - Concurrency, idempotency

    mutating func checkPolicies() {
        if let c = pipeline.concurrency {
            if let group = c.group, group.value.isEmpty || group.value.count > 128 {
                report(.invalidValue, "concurrency group must be 1 to 128 characters", at: group.location)
            }
            if let key = c.key {
                let scope = ExpressionScope(params: paramsByName, steps: nil, allowsEnv: false, owner: "concurrency.key")
                let found = ExpressionChecker.check(key, in: scope, expecting: nil)
                diagnostics += found
                if found.isEmpty, case .list = key.root.kind {
                    report(.expressionType, "concurrency.key must be a single value, not a list", at: key.source.location)
                }
            }
            if let code = c.errorCode { checkErrorCode(code) }
        }
        if let i = pipeline.idempotency {
            if let ttl = i.ttl, ttl.value <= .zero { report(.invalidDuration, "idempotency ttl must be longer than 0s", at: ttl.location) }
            if let code = i.errorCode { checkErrorCode(code) }
        }
    }

    /// `progress.weights`: main steps, each once, weighed 1 to 1,000,000 (a sum of weights
    /// never overflows).
    mutating func checkProgress() {
        guard let spec = pipeline.progress else { return }
        if spec.weights.isEmpty {
            report(.invalidProgress, "'progress.weights' is empty: no step would count", at: spec.location,
                   hint: "name the main steps that count, or remove 'progress' to count every main step once")
        }
        let sections = Dictionary(steps.map { ($0.name.value, $0.section) }, uniquingKeysWith: { a, _ in a })
        let mainSteps = steps.filter(\.section.isMain).map(\.name.value)
        for (step, weight) in spec.weights {
            if let section = sections[step.value], !section.isMain {
                report(.invalidProgress, "'progress.weights' names '\(step.value)', a \(section) step",
                       at: step.location, length: step.value.count,
                       hint: "only main steps count toward a run's progress")
            } else if sections[step.value] == nil {
                report(.invalidProgress, "'progress.weights' names unknown step '\(step.value)'", at: step.location,
                       length: step.value.count, hint: Suggestion.hint(for: step.value, in: mainSteps))
            }
            if !(1...1_000_000).contains(weight.value) {
                let message = "the weight of step '\(step.value)' must be from 1 to 1000000, not \(weight.value)"
                report(.invalidProgress, message, at: weight.location)
            }
        }
    }

    // MARK: - Triggers

    mutating func checkTriggers() {
        if let api = pipeline.triggers.api {
            checkRoute(api.path)
            if let code = api.notFoundErrorCode { checkErrorCode(code) }
        }
        if let git = pipeline.triggers.git { checkGit(git) }
        for schedule in pipeline.triggers.schedules { checkSchedule(schedule) }
        if let workspace = pipeline.workspace { checkWorkspace(workspace) }
    }

    private mutating func checkWorkspace(_ workspace: WorkspaceSpec) {
        checkGitrefParam(workspace.param, code: .invalidWorkspace, unknown: "the workspace is checked out from unknown param",
                         subject: "the workspace param", hint: "a workspace is a checkout of the commit a gitref param names")
    }

    /// `param` names a declared gitref param (the git trigger's and the workspace's).
    private mutating func checkGitrefParam(_ param: Located<String>, code: DiagnosticCode, unknown: String, subject: String,
                                           hint: String? = nil) {
        guard let spec = paramsByName[param.value] else {
            report(code, "\(unknown) '\(param.value)'", at: param.location,
                   hint: Suggestion.hint(for: param.value, in: pipeline.params.map(\.name.value)) ?? "declare a param of type gitref")
            return
        }
        if case .gitref = spec.kind {} else {
            report(code, "\(subject) '\(param.value)' is \(spec.kind.displayName), not gitref",
                   at: param.location, hint: hint, notes: [.init("declared here", at: spec.name.location)])
        }
    }

    private mutating func checkRoute(_ path: Located<String>) {
        let value = path.value
        let allowed: (Unicode.Scalar) -> Bool = { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._~/-".unicodeScalars.contains($0)) }
        if !value.hasPrefix("/") || value.count < 2 {
            report(.invalidPath, "api path '\(value)' must start with '/' and name a route", at: path.location,
                   hint: "e.g. /api/v1/admin/docs/publish")
        } else if value.unicodeScalars.contains(where: { !allowed($0) }) {
            report(.invalidPath, "api path '\(value)' may only use letters, digits and . _ ~ / -", at: path.location,
                   hint: "path templates like {id} are added by the server, not written here")
        } else if value.contains("//") || value.hasSuffix("/") || value.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            report(.invalidPath, "api path '\(value)' has an empty, '.' or '..' segment, or a trailing '/'", at: path.location)
        } else if ["/api/v1/pipelines", "/api/v1/runs", "/api/v1/audit", "/healthz", "/metrics"].contains(where: { value == $0 || value.hasPrefix($0 + "/") }) {
            report(.invalidPath, "api path '\(value)' overlaps a built-in route of the server", at: path.location,
                   hint: "choose a path outside /api/v1/pipelines, /api/v1/runs, /api/v1/audit, /healthz and /metrics")
        }
    }

    private mutating func checkGit(_ git: GitTrigger) {
        if git.refs.isEmpty {
            report(.ineffectiveSetting, "the git trigger lists no refs: no push will ever launch a run", at: git.location,
                   hint: "e.g. refs: [refs/heads/main]")
        }
        for ref in git.refs where !ref.value.hasPrefix("refs/") && ref.value != "HEAD" {
            report(.invalidValue, "git trigger ref '\(ref.value)' must be a full ref name or glob", at: ref.location,
                   hint: "write 'refs/heads/\(ref.value)' for a branch or 'refs/tags/\(ref.value)' for a tag")
        }
        guard let param = git.param else { return }
        checkGitrefParam(param, code: .invalidGitTrigger, unknown: "the git trigger passes the commit to unknown param",
                         subject: "the git trigger's param")
    }

    private mutating func checkSchedule(_ schedule: ScheduleTrigger) {
        if let tz = schedule.timezone, TimeZone(identifier: tz.value) == nil {
            let known = TimeZone.knownTimeZoneIdentifiers
            report(.invalidTimezone, "unknown time zone '\(tz.value)'", at: tz.location,
                   hint: Suggestion.hint(for: tz.value, in: known) ?? DiagnosticCode.invalidTimezone.help)
        }
        let inputs = schedule.params.map { (name: $0.name.value, input: ParamInput.value($0.value.value)) }
        let resolution = ParamResolver.resolve(inputs, against: pipeline.params)
        for problem in resolution.diagnostics {
            let name = problem.subject.map { String($0.dropFirst("params.".count)) }
            let location = schedule.params.first { $0.name.value == name }?.value.location ?? schedule.location
            report(.invalidScheduleParams, "schedule '\(schedule.cron.value.source)': \(problem.message)", at: location,
                   hint: problem.hint ?? DiagnosticCode.invalidScheduleParams.help)
        }
    }
}
