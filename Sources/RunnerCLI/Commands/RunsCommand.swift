import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerJSON
import RunnerYAML

/// `runner runs list|show|logs|cancel|resume`.
enum RunsCommand {
    static let spec = CommandSpec(name: "runs", summary: "List, inspect, cancel and resume runs",
                                  usage: "runner runs <list|show|logs|cancel|resume> ...", options: [], positionalName: "a command",
                                  positionals: 0...0)

    static let json = CommandSpec.Option(long: "json", short: nil, valueName: nil, help: "print JSON")

    static let subcommands: [RunnerCLI.Command] = [
        .init(spec: CommandSpec(name: "list", summary: "List runs, newest first", usage: "runner runs list [--pipeline NAME] [--status STATUS]... [--limit N] [--json]",
                                options: [.init(long: "pipeline", short: nil, valueName: "NAME", help: "only runs of this pipeline"),
                                          .init(long: "status", short: nil, valueName: "STATUS", help: "only runs with this status", isRepeatable: true),
                                          .init(long: "limit", short: "n", valueName: "N", help: "at most N runs (default 20)"), json] + APIClient.options,
                                positionalName: "nothing", positionals: 0...0), run: list),
        .init(spec: CommandSpec(name: "show", summary: "Show a run: its steps, attempts and errors", usage: "runner runs show ID [--json]",
                                options: [json] + APIClient.options, positionalName: "a run ID", positionals: 1...1), run: show),
        .init(spec: CommandSpec(name: "logs", summary: "Print a run's step logs", usage: "runner runs logs ID [STEP] [--attempt N]",
                                options: [.init(long: "attempt", short: nil, valueName: "N", help: "this attempt (default: every attempt)")] + APIClient.options,
                                positionalName: "a run ID and optionally a STEP", positionals: 1...2), run: logs),
        .init(spec: CommandSpec(name: "cancel", summary: "Ask a run to stop; its runner terminates the running steps", usage: "runner runs cancel ID",
                                options: APIClient.options, positionalName: "a run ID", positionals: 1...1), run: cancel),
        .init(spec: CommandSpec(name: "resume", summary: "Finish a run whose runner stopped, or re-run one from a step",
                                usage: "runner runs resume ID [--from STEP] [--json]",
                                options: [.init(long: "from", short: nil, valueName: "STEP",
                                                help: "start a new run of the same pipeline and params from STEP; earlier successes are reused"),
                                          json] + APIClient.options,
                                positionalName: "a run ID", positionals: 1...1,
                                discussion: "Steps recorded as succeeded never run again; a step that was running when the runner stopped runs again."),
              run: resume),
    ]

    static func service(_ context: RunnerCLI.Context) -> Result<RunService, Diagnostic> {
        do {
            return .success(try Composition.service(state: StateDirectory.resolve(environment: context.environment, currentDirectory: context.currentDirectory),
                                           environment: context.environment))
        } catch {
            return .failure(openFailure(error).0)
        }
    }

    /// What a command says, and exits with, when the state cannot be opened: a store locked by
    /// another process or a full disk (try again: 75) is told from one that is broken (70).
    static func openFailure(_ error: any Error) -> (Diagnostic, ExitCode) {
        storeFailure(error, "cannot open the run state")
    }

    /// The same for a store that failed while the command was `doing` something.
    static func storeFailure(_ error: any Error, _ doing: String) -> (Diagnostic, ExitCode) {
        let underlying = (error as? OperationFailure)?.error ?? error
        if underlying.isTransientStoreFailure {
            return (Diagnostic(.stateBusy, "\(doing) now: \(underlying)", hint: DiagnosticCode.stateBusy.help),
                    .storeUnavailable)
        }
        return (Diagnostic(.stateUnavailable, "\(doing): \(underlying)", hint: DiagnosticCode.stateUnavailable.help),
                .internalError)
    }

    /// The exit code of a state that could not be opened (`openFailure`'s diagnostic).
    static func exitCode(opening d: Diagnostic) -> ExitCode { d.code == .stateBusy ? .storeUnavailable : .internalError }

    static func fail(_ d: Diagnostic, _ context: RunnerCLI.Context, _ code: ExitCode = .runFailed) -> ExitCode {
        context.console.err(DiagnosticRenderer(colors: context.console.colorsError).render(d))
        return code
    }

    static func withRun(_ text: String, _ context: RunnerCLI.Context, _ body: (RunService, StoredRun) -> ExitCode) -> ExitCode {
        switch service(context) {
        case .failure(let d): return fail(d, context, exitCode(opening: d))
        case .success(let service):
            let found: StoredRun?
            do {
                found = try service.find(text).flatMap { try service.show($0.id) }
            } catch {
                let (diagnostic, exit) = storeFailure(error, "cannot read the run state")
                return fail(diagnostic, context, exit)
            }
            guard let stored = found else {
                return fail(Diagnostic(.runNotFound, "no run '\(text)'", hint: DiagnosticCode.runNotFound.help), context)
            }
            return body(service, stored)
        }
    }

    static func secrets(of stored: StoredRun) -> Set<String> { stored.run.maskedParams }

    // MARK: - list

    static func list(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        if let answered = remote("list", arguments, context) { return answered }
        var statuses: [RunStatus] = []
        for text in arguments.values("status") {
            guard let status = RunStatus(rawValue: text) else {
                let names = RunStatus.allCases.map(\.rawValue)
                return RunnerCLI.usageError(UsageError(message: "unknown status '\(text)'", hint: Suggestion.hint(for: text, in: names)
                                                        ?? "statuses: " + names.joined(separator: ", ")), context)
            }
            statuses.append(status)
        }
        let limit = arguments.value("limit").flatMap(Int.init) ?? 20
        switch service(context) {
        case .failure(let d): return fail(d, context, exitCode(opening: d))
        case .success(let service):
            guard let runs = try? service.store.runs(RunQuery(pipeline: arguments.value("pipeline"), statuses: statuses, limit: limit)) else {
                return fail(Diagnostic(.stateUnavailable, "cannot read the run state"), context, .internalError)
            }
            if arguments.has("json") {
                RunJSON.writeJSON(runs.map { RunJSON($0, masked: $0.maskedParams) }, to: context.console)
                return .success
            }
            let style = Style(enabled: context.console.colorsOutput)
            if runs.isEmpty {
                context.console.out("no runs yet in \(service.state.root.path)\n")
                return .success
            }
            let widths = (runs.map(\.id.rawValue.count).max() ?? 2, runs.map(\.pipeline.count).max() ?? 8)
            for run in runs {
                let elapsed = run.startedAt.map { ProgressRenderer.duration((run.finishedAt ?? Date()).timeIntervalSince($0)) } ?? "-"
                var line = run.id.rawValue.padded(to: widths.0 + 2)
                line += run.pipeline.padded(to: widths.1 + 2)
                line += run.status.rawValue.padded(to: 18)
                line += elapsed.padded(to: 9)
                line += style.dim(run.trigger.rawValue)
                if let code = run.errorCode { line += "  " + style.red(code) }
                context.console.out(line + "\n")
            }
            return .success
        }
    }

    // MARK: - show

    static func show(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        if let answered = remote("show", arguments, context) { return answered }
        return withRun(arguments.positionals[0], context) { _, stored in
            if arguments.has("json") {
                RunJSON.writeJSON(stored, secrets: secrets(of: stored),
                                  weights: StoredDefinition.progressWeights(of: stored), to: context.console)
                return .success
            }
            let style = Style(enabled: context.console.colorsOutput)
            let run = stored.run
            var out = "\(style.bold("run \(run.id)"))  \(run.pipeline)  \(run.status.rawValue)\n"
            var trigger = run.trigger.rawValue
            for key in ["event", "ref", "pusher"] { if let value = run.triggerDetail[key] { trigger += " \(key) \(value)" } }
            out += style.dim("  trigger \(trigger) · created \(RunJSON.time(run.createdAt) ?? "")")
            if let finished = run.finishedAt { out += style.dim(" · finished \(RunJSON.time(finished) ?? "")") }
            out += "\n"
            let hidden = secrets(of: stored)
            if !run.params.isEmpty {
                out += "  params: " + run.params.keys.sorted().map { "\($0)=\(hidden.contains($0) ? "***" : run.params[$0]!.displayText)" }
                    .joined(separator: " ") + "\n"
            }
            for name in run.refs.keys.sorted() {
                out += "  \(name): \(run.params[name]?.displayText ?? "?") → commit \(run.refs[name]!.sha) in \(run.refs[name]!.repository)\n"
            }
            if let wake = run.wakeAt, run.status == .waiting { out += "  waiting until \(RunJSON.time(wake) ?? "")\n" }
            if let code = run.errorCode { out += "  error: \(style.red(code))\(run.errorMessage.map { ": \($0)" } ?? "")\n" }
            let renderer = ProgressRenderer.self
            for step in stored.steps {
                let elapsed = step.startedAt.map { renderer.duration((step.finishedAt ?? Date()).timeIntervalSince($0)) }
                var line = "  \(style.symbol(step.status)) \(step.name)"
                if step.attempts > 1 { line += style.dim(" #\(step.attempts)") }
                if let elapsed { line += "  " + style.dim(elapsed) }
                if let p = step.progress, step.status == .running { line += "  \(p)%" }
                if let code = step.errorCode, step.status != .succeeded { line += "  " + style.red(code) }
                if let message = step.errorMessage { line += "  " + style.dim(message) }
                if !step.outputs.isEmpty {
                    line += style.dim("  " + step.outputs.keys.sorted().map { "\($0)=\(step.outputs[$0]!)" }.joined(separator: " "))
                }
                out += line + "\n"
            }
            context.console.out(out)
            return .success
        }
    }

    // MARK: - logs

    static func logs(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        if let answered = remote("logs", arguments, context) { return answered }
        return withRun(arguments.positionals[0], context) { _, stored in
            var attempts = stored.attempts
            if arguments.positionals.count > 1 {
                let step = arguments.positionals[1]
                attempts = attempts.filter { $0.step.rawValue == step || $0.step.rawValue.hasPrefix(step + "[") }
                if attempts.isEmpty {
                    let names = stored.steps.map(\.name.rawValue)
                    return fail(Diagnostic(.usage, "run \(stored.run.id) has no log for step '\(step)'",
                                           hint: Suggestion.hint(for: step, in: names) ?? (names.contains(step) ? "the step has not run" : "steps: " + names.joined(separator: ", "))),
                                context)
                }
            }
            if let text = arguments.value("attempt") {
                guard let n = Int(text) else { return RunnerCLI.usageError(UsageError(message: "--attempt takes a number", hint: nil), context) }
                attempts = attempts.filter { $0.serial == n }
            }
            let style = Style(enabled: context.console.colorsOutput)
            let single = attempts.count == 1
            for attempt in attempts {
                if !single {
                    context.console.out(style.dim("── \(attempt.step) · attempt \(attempt.serial)\(attempt.errorCode.map { " · \($0)" } ?? "") ──") + "\n")
                }
                if let path = attempt.logPath, let data = FileManager.default.contents(atPath: path) {
                    context.console.out(String(decoding: data, as: UTF8.self))
                }
            }
            return .success
        }
    }

    // MARK: - cancel

    static func cancel(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        if let answered = remote("cancel", arguments, context) { return answered }
        return withRun(arguments.positionals[0], context) { service, stored in
            let outcome: CancelOutcome
            do {
                outcome = try service.cancel(stored.run.id, audit: LocalAudit.context)
            } catch where error.isTransientStoreFailure {
                let (diagnostic, exit) = storeFailure(error, "cannot record the cancel request")
                return fail(diagnostic, context, exit)
            } catch {
                return fail(Diagnostic(.stateUnavailable, "cannot record the cancel request"), context, .internalError)
            }
            switch outcome {
            case .notFound:
                let d = Diagnostic(.runNotFound, "no run '\(stored.run.id)'", hint: DiagnosticCode.runNotFound.help)
                return fail(d, context)
            case .alreadyFinished(let run):
                return fail(Diagnostic(.runFinished, "run \(run.id) has already finished (\(run.status.rawValue))",
                                       hint: "nothing to cancel"), context)
            case .requested(let run, hasExecutor: true):
                context.console.out("cancel requested for run \(run.id); its runner is stopping it\n")
                return .success
            case .requested(let run, hasExecutor: false):
                // Nobody would act on the request: the cancel is carried out here (finally
                // steps run; a run whose definition no longer loads just ends).
                context.console.out("cancel requested for run \(run.id); nobody is executing it: cancelling it here\n")
                let exit = Execution(service: service, context: context, json: false)
                    .run(run.id, header: "\(run.pipeline) · run \(run.id) (cancelling)")
                let final = try? service.store.load(run.id)
                return final?.run.status == .cancelled ? .success : exit
            }
        }
    }

    // MARK: - resume

    static func resume(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        if let answered = remote("resume", arguments, context) { return answered }
        return withRun(arguments.positionals[0], context) { service, stored in
            var id = stored.run.id
            if let step = arguments.value("from") {
                switch retry(stored, from: step, service, context) {
                case .success(let run): id = run
                case .failure(let exit): return exit
                }
                context.console.err("re-running \(stored.run.pipeline) from \(step) as run \(id) (earlier successes of \(stored.run.id) reused)\n")
            } else if stored.run.status.isTerminal {
                return fail(Diagnostic(.runFinished, "run \(stored.run.id) has already finished (\(stored.run.status.rawValue))",
                                       hint: "re-run it from a step with 'runner runs resume \(stored.run.id) --from STEP'"), context)
            } else if stored.run.owner != nil && !RunService.isOrphan(stored.run) {
                // (A run nobody claimed yet is taken: the claim decides if its creator races us.)
                return fail(Diagnostic(.runBusy, "run \(stored.run.id) is being executed by \(stored.run.owner ?? "another runner")",
                                       hint: DiagnosticCode.runBusy.help), context)
            }
            return Execution(service: service, context: context, json: arguments.has("json"))
                .run(id, header: "\(stored.run.pipeline) · run \(id)")
        }
    }

    /// `runs resume --from`: the engine's retry, audited as the local user's; the new run.
    static func retry(_ stored: StoredRun, from step: String, _ service: RunService,
                      _ context: RunnerCLI.Context) -> Result<RunID, ExitCode> {
        let outcome: LaunchOutcome
        do {
            outcome = try service.retry(stored.run.id, from: step, trigger: .cli, audit: LocalAudit.context)
        } catch where error.isTransientStoreFailure {
            let (diagnostic, exit) = storeFailure(error, "cannot record the run")
            return .failure(fail(diagnostic, context, exit))
        } catch {
            return .failure(fail(Diagnostic(.usage, "\(error)"), context, .invalid))
        }
        switch outcome {
        case .accepted(let run):
            return .success(run.id)
        case .rejected(let active, let code):
            let d = Diagnostic(.usage, LaunchOutcome.conflictMessage(pipeline: stored.run.pipeline, active: active),
                               hint: "follow it with 'runner runs show \(active.id)'", contractCode: code)
            return .failure(fail(d, context, .conflict))
        case .invalid(let problems):
            let message = problems.first?.message ?? "run \(stored.run.id) cannot be retried"
            return .failure(fail(Diagnostic(.usage, message), context, .invalid))
        case .skipped, .replayed, .keyMismatch, .keyInFlight:
            // A retry is never skipped and has no Idempotency-Key.
            return .failure(.internalError)
        }
    }
}
