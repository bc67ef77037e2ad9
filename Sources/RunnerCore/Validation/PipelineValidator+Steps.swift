import FoundationEssentials

extension PipelineValidator {
    /// Each step is checked on its own: large pipelines use every core.
    mutating func checkSteps() {
        let base = self
        let chunks = ParallelMap.chunks(of: steps.count) { range -> [Diagnostic] in
            var checker = base
            checker.diagnostics = []
            for index in range { checker.checkStep(checker.steps[index], index: index) }
            return checker.diagnostics
        }
        for found in chunks { diagnostics += found }
    }

    mutating func checkStep(_ step: Step, index: Int) {
        let owner = "step '\(step.name.value)'"
        // A missing `run` was reported by the decoder, which left a placeholder at the step.
        let isPlaceholder = step.run.location == step.location
        if step.run.value.allSatisfy(\.isWhitespace), !isPlaceholder {
            report(.invalidValue, "\(owner) has an empty `run`", at: step.run.location, hint: "write the command to run")
        } else if Self.containsSubstitutionSyntax(step.run.value) {
            report(.ineffectiveSetting, "\(owner): the runner never substitutes `${{ }}` into `run` text", at: step.run.location,
                   hint: "read values from the environment instead: $PARAM_X, $STEP_X_Y, $ITEM", severity: .warning)
        }
        checkRunSettings(shell: step.shell, workdir: step.workdir, timeout: step.timeout, retry: step.retry, owner: owner)
        checkEnvironment(step.env, owner: owner)
        checkOutputs(step)
        checkErrorClasses(step.errors, owner: "the errors of \(owner)")
        if let code = step.errorCode { checkErrorCode(code) }
        if let condition = step.condition {
            diagnostics += ExpressionChecker.check(condition, in: scope(forStep: index, owner: "the `if` of \(owner)"), expecting: .bool)
        }
        switch step.forEach {
        case .expression(let e)?:
            let scope = ExpressionScope(params: paramsByName, steps: nil, allowsEnv: false, owner: "the `for_each` of \(owner)")
            diagnostics += ExpressionChecker.check(e, in: scope, expecting: .list)
        case .items(let items)?:
            checkForEachItems(items, owner: owner, at: step.name.location)
        case nil:
            if step.allowsPartial {
                report(.ineffectiveSetting, "allow_partial has no effect: \(owner) has no for_each", at: step.name.location,
                       hint: "allow_partial lets some instances of a for_each step fail; use continue_on_error for a single step")
            }
        }
    }

    /// `${{` in run text: a byte scan, as Foundation's `contains` is slow on 10,000 scripts.
    static func containsSubstitutionSyntax(_ text: String) -> Bool {
        var previous2: UInt8 = 0, previous: UInt8 = 0
        for byte in text.utf8 {
            if previous2 == UInt8(ascii: "$") && previous == UInt8(ascii: "{") && byte == UInt8(ascii: "{") { return true }
            previous2 = previous
            previous = byte
        }
        return false
    }

    func scope(forStep index: Int, owner: String) -> ExpressionScope {
        let steps = self.steps, graph = self.graph
        return ExpressionScope(
            params: paramsByName,
            steps: { name in
                guard let i = graph.indexByName[name] else { return nil }
                return .init(outputs: steps[i].outputs.map(\.value), isForEach: steps[i].forEach != nil)
            },
            stepNames: stepNames,
            canRead: { name in graph.indexByName[name].map { graph.canRead(index, $0) } ?? true },
            allowsEnv: true,
            owner: owner)
    }

    /// The keys a step and `defaults:` share, under the same rules.
    mutating func checkRunSettings(shell: Shell?, workdir: Located<String>?, timeout: Located<Duration>?,
                                   retry: Located<RetryPolicy>?, owner: String) {
        if let shell { checkShell(shell, owner: owner) }
        if let workdir { checkRelativePath(workdir, what: "workdir of \(owner)") }
        if let timeout, timeout.value <= .zero {
            report(.invalidDuration, "timeout of \(owner) must be longer than 0s", at: timeout.location)
        }
        if let retry { checkRetry(retry, owner: owner) }
    }

    private mutating func checkShell(_ shell: Shell, owner: String) {
        if shell.argv.isEmpty || shell.argv.contains(where: \.isEmpty) {
            report(.invalidValue, "shell of \(owner) is empty", at: shell.location, hint: "write `sh`, `bash`, or an argv list like [python3, -c]")
        }
    }

    private mutating func checkOutputs(_ step: Step) {
        var seen: [String] = []
        for output in step.outputs {
            if !NameRules.isIdentifier(output.value) {
                report(.invalidName, "invalid output name '\(output.value)' of step '\(step.name.value)'", at: output.location,
                       length: output.value.count, hint: "output names use [A-Za-z_][A-Za-z0-9_]*")
            } else if seen.contains(output.value) {
                report(.duplicateEntry, "step '\(step.name.value)' declares output '\(output.value)' twice", at: output.location,
                       length: output.value.count)
            } else {
                seen.append(output.value)
            }
        }
    }

    private mutating func checkForEachItems(_ items: [Located<Value>], owner: String, at location: SourceLocation) {
        if items.isEmpty {
            report(.ineffectiveSetting, "the `for_each` of \(owner) is empty: the step will never run", at: location)
        }
        var seen = Set<String>()
        for item in items {
            guard let text = item.value.environmentText, !(item.value.typeName == "list") else {
                report(.wrongType, "for_each items must be strings, numbers or booleans", at: item.location)
                continue
            }
            if !seen.insert(text).inserted {
                report(.duplicateEntry, "for_each item '\(text)' appears twice: instance names must be unique", at: item.location,
                       severity: .error)
            }
        }
    }

    mutating func checkEnvironment(_ env: [EnvironmentEntry], owner: String) {
        for entry in env {
            let name = entry.name.value
            if !NameRules.isIdentifier(name) {
                report(.invalidEnvName, "invalid environment variable name '\(name)' in \(owner) env", at: entry.name.location,
                       length: name.count)
            } else if NameRules.isReservedEnvironmentName(name) {
                report(.invalidEnvName, "'\(name)' is set by the runner and cannot be declared in \(owner) env",
                       at: entry.name.location, length: name.count,
                       hint: "RUNNER_*, PARAM_*, STEP_* and ITEM are reserved; choose another name")
            }
            if let source = entry.fromEnvironment, !NameRules.isIdentifier(source.value) {
                report(.invalidEnvName, "'from_env' of \(owner) env '\(name)' is not a variable name: '\(source.value)'",
                       at: source.location, length: max(1, source.value.count), hint: "write the name of a variable of the runner's environment")
            }
        }
    }

    mutating func checkRelativePath(_ path: Located<String>, what: String) {
        let value = path.value
        if value.isEmpty {
            report(.invalidPath, "\(what) is empty", at: path.location)
        } else if value.hasPrefix("/") || value.hasPrefix("~") {
            report(.invalidPath, "\(what) '\(value)' is absolute", at: path.location, length: value.count,
                   hint: "use a path relative to the pipeline file")
        } else if value.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            report(.invalidPath, "\(what) contains control characters", at: path.location)
        } else {
            var depth = 0
            for part in value.split(separator: "/") {
                if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
                if depth < 0 {
                    report(.invalidPath, "\(what) '\(value)' leaves the pipeline's directory", at: path.location,
                           length: value.count, hint: DiagnosticCode.invalidPath.help)
                    return
                }
            }
        }
    }

    mutating func checkErrorCode(_ code: Located<String>) {
        if !NameRules.isErrorCode(code.value) {
            report(.invalidErrorCode, "error code '\(code.value)' is not UPPER_SNAKE_CASE", at: code.location, length: code.value.count,
                   hint: "write it like '\(NameRules.environmentName(code.value).filter { $0.isLetter || $0.isNumber || $0 == "_" })'")
        }
    }

    mutating func checkRetry(_ retry: Located<RetryPolicy>, owner: String) {
        let policy = retry.value
        if policy.attempts < 1 {
            report(.invalidRetry, "retry of \(owner): attempts must be at least 1, got \(policy.attempts)", at: retry.location,
                   hint: "attempts counts every try including the first; use `retry: none` for a single attempt")
        } else if policy.attempts > 100 {
            report(.invalidRetry, "retry of \(owner): at most 100 attempts, got \(policy.attempts)", at: retry.location)
        }
        if policy.deferral != nil {
            if policy.attempts == 1 {
                report(.invalidRetry, "retry of \(owner) defers with `at` but allows only 1 attempt: it can never retry",
                       at: retry.location, hint: "omit attempts (default \(RetryPolicy.defaultDeferredAttempts)) or set it to 2 or more")
            }
            return
        }
        let b = policy.backoff
        if b.initial <= .zero {
            report(.invalidRetry, "retry of \(owner): backoff initial must be longer than 0s", at: retry.location)
        }
        if !(b.factor >= 1) || !b.factor.isFinite || b.factor > 100 {
            report(.invalidRetry, "retry of \(owner): backoff factor must be between 1 and 100, got \(Value.format(b.factor))",
                   at: retry.location)
        }
        if b.max < b.initial {
            report(.invalidRetry,
                   "retry of \(owner): backoff max (\(DurationText.format(b.max))) is shorter than initial (\(DurationText.format(b.initial)))",
                   at: retry.location, hint: "max caps the delay; make it at least initial")
        }
    }

    mutating func checkErrorClasses(_ classes: [ErrorClass], owner: String) {
        var catchAll: ErrorClass?
        for errorClass in classes {
            checkErrorCode(errorClass.code)
            if let first = catchAll {
                report(.unreachableErrorClass, "error class \(errorClass.code.value) in \(owner) can never match: the catch-all \(first.code.value) before it matches every failure",
                       at: errorClass.location, notes: [.init("catch-all class", at: first.location)])
            }
            if errorClass.isCatchAll, catchAll == nil { catchAll = errorClass }
            var seen = Set<Int>()
            for code in errorClass.exitCodes {
                if code == 0 {
                    report(.invalidValue, "exit code 0 means success and is never a failure", at: errorClass.location,
                           hint: "exit codes of failures are 1-255")
                } else if !(1...255).contains(code) {
                    report(.invalidValue, "exit code \(code) is out of range 1-255", at: errorClass.location)
                } else if !seen.insert(code).inserted {
                    report(.duplicateEntry, "exit code \(code) is listed twice", at: errorClass.location)
                }
            }
            if let pattern = errorClass.stderrPattern {
                checkRegex(pattern, what: "stderr pattern")
            }
            if let retry = errorClass.retry { checkRetry(retry, owner: "error class \(errorClass.code.value)") }
        }
    }

    mutating func checkRegex(_ pattern: Located<String>, what: String) {
        if let problem = RegularExpression.problem(in: pattern.value) {
            report(.invalidPattern, "\(what) '\(pattern.value)' is not a valid regular expression: \(problem)", at: pattern.location,
                   length: pattern.value.count)
        }
    }
}
