#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerJSON
import RunnerYAML

enum ApplyCommand {
    static let spec = CommandSpec(
        name: "apply",
        summary: "Run a pipeline now, in the foreground, with live progress",
        usage: "runner apply FILE [-p NAME=VALUE]... [--params FILE.json] [--parallelism N] [--dry-run] [--json]",
        options: [
            .init(long: "param", short: "p", valueName: "NAME=VALUE", help: "a param value; lists as a,b or [\"a\",\"b\"]", isRepeatable: true),
            .init(long: "params", short: nil, valueName: "FILE.json", help: "params as one JSON object, like an API body; -p wins"),
            .init(long: "parallelism", short: "j", valueName: "N", help: "steps running at once (default: the number of cores)"),
            .init(long: "dry-run", short: nil, valueName: nil, help: "check and show the plan; run nothing, record nothing"),
            .init(long: "json", short: nil, valueName: nil, help: "print the finished run as JSON instead of progress"),
        ],
        positionalName: "a FILE",
        positionals: 1...1,
        discussion: """
        State is kept in .runner/ (or $RUNNER_HOME). Ctrl-C cancels the run: running steps are terminated and finally
        steps run; a second Ctrl-C stops those too; a third exits at once (resume with 'runner runs resume ID').
        Exit status: 0 succeeded, 1 failed, partial, rolled back or cancelled, 2 invalid pipeline or params,
        3 another run of the pipeline's concurrency group is active (on_conflict: reject).
        """)

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let file = arguments.positionals[0]
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        let state = StateDirectory.resolve(environment: context.environment, currentDirectory: context.currentDirectory)
        let opening = context.stateOpening.flatMap { !arguments.has("dry-run") && $0.state.root == state.root ? $0 : nil }
        // The bytes validated here are the definition recorded with the run: an edit of the
        // file while this starts cannot make the two differ.
        var bytes: [UInt8]
        switch PipelineLoader.readFile(file) {
        case .success(let read): bytes = read
        case .failure(let d):
            context.console.err(renderer.render(d))
            return .invalid
        }
        var loaded = PipelineLoader.load(bytes: bytes, file: file).confiningWorkdirs(file: file)
        // The syntax tree is not needed from here on: at 10,000 steps it is megabytes kept
        // for the whole run otherwise. Freed on another core meanwhile.
        BackgroundRelease.release(loaded.syntaxTree.take())
        guard let validated = loaded.pipeline else {
            loaded.diagnostics.forEach { context.console.err(renderer.render($0)) }
            return .invalid
        }
        loaded.diagnostics.forEach { context.console.err(renderer.render($0)) }
        let inputs: [(name: String, input: ParamInput)]
        switch ParamInputs.collect(arguments) {
        case .failure(.usage(let error)): return RunnerCLI.usageError(error, context)
        case .failure(.invalid(let d)):
            context.console.err(renderer.render(d))
            return .invalid
        case .success(let collected): inputs = collected
        }
        let resolution = ParamResolver.resolve(inputs, against: validated.pipeline.params)
        if resolution.diagnostics.hasErrors {
            resolution.diagnostics.forEach { context.console.err(renderer.render($0)) }
            context.console.err("\(renderer.style.red("error")): invalid params for pipeline '\(validated.pipeline.name.value)'\n"
                                + ParamTable.render(validated.pipeline.params))
            return .invalid
        }
        let parallelism: Int
        if let text = arguments.value("parallelism") {
            guard let n = Int(text), n >= 1, n <= 1024 else {
                return RunnerCLI.usageError(UsageError(message: "--parallelism takes a number from 1 to 1024, got '\(text)'", hint: nil), context)
            }
            parallelism = n
        } else {
            parallelism = ParallelMap.cores
        }
        // gitref params name commits from here on: the run records both the ref and its SHA.
        let absolute = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: context.currentDirectory)).standardizedFileURL.path
        let git = GitRefs.resolve(validated, params: resolution.values, pipelineFile: absolute)
        if !git.diagnostics.isEmpty {
            git.diagnostics.forEach { context.console.err(renderer.render($0)) }
            return .invalid
        }
        if arguments.has("dry-run") {
            let plan = PlanModel(validated, params: resolution.values, given: Set(inputs.map(\.name)), environment: context.environment,
                                 refs: git.refs)
            context.console.out(PlanTextRenderer(style: Style(enabled: context.console.colorsOutput)).render(plan))
            context.console.out("\ndry run: nothing was executed or recorded\n")
            return .success
        }
        var definition = String(decoding: bytes, as: UTF8.self)
        bytes = []
        let service: RunService
        do {
            if let opening {
                service = RunService(state: state, environment: context.environment, store: try opening.wait())
            } else {
                service = try RunService(state: state, environment: context.environment)
            }
        } catch {
            let (diagnostic, exit) = RunsCommand.openFailure(error)
            context.console.err(renderer.render(diagnostic))
            return exit
        }
        // The definition is stored with the run; no copy of it is kept here while the run runs.
        return Execution(service: service, context: context, json: arguments.has("json"))
            .admitAndRun(validated, definition: take(&definition), file: absolute, params: resolution.values, parallelism: parallelism,
                         refs: git.refs)
    }
}

/// Running a run in the foreground, shared by `apply` and `runs resume`.
struct Execution {
    let service: RunService
    let context: RunnerCLI.Context
    let json: Bool

    var isTTY: Bool { context.console.colorsOutput || (isatty(1) == 1 && context.environment["TERM"] != "dumb") }

    func admitAndRun(_ pipeline: ValidatedPipeline, definition: String, file: String, params: [String: Value], parallelism: Int,
                     refs: [String: RecordedRef] = [:]) -> ExitCode {
        let console = context.console, style = Style(enabled: console.colorsError)
        let name = pipeline.pipeline.name.value
        let outcome: Result<RunService.Admission, any Error> = blockingAwait { [service] in
            do {
                for orphan in try service.orphans(pipeline: name) {
                    if orphan.status == .waiting, let wake = orphan.wakeAt, wake > Date() {
                        // Nothing to do before its time; finishing it here would hold this apply until then.
                        console.err(style.yellow("note") + ": run \(orphan.id) of \(name) is waiting until \(RunJSON.time(wake) ?? "later") "
                                    + "and its runner stopped; continue it with 'runner runs resume \(orphan.id)'\n")
                        continue
                    }
                    console.err(style.yellow("note") + ": run \(orphan.id) of \(name) was interrupted (its runner stopped); finishing it first\n")
                    _ = try? await service.resume(orphan.id)
                }
                return .success(try await service.admit(
                    pipeline: pipeline, definition: definition, file: file, params: params, trigger: .cli, parallelism: parallelism,
                    refs: refs))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .failure(let error) where error.isTransientStoreFailure:
            console.err(DiagnosticRenderer(colors: console.colorsError).render(
                Diagnostic(.stateBusy, "cannot record the run now: \(error)", hint: DiagnosticCode.stateBusy.help)))
            return .storeUnavailable
        case .failure(let error):
            console.err(DiagnosticRenderer(colors: console.colorsError).render(Diagnostic(.internalError, "\(error)")))
            return .internalError
        case .success(.rejected(let active, let code)):
            let d = Diagnostic(.usage, "pipeline '\(name)' already has an active run \(active.id) (\(active.status.rawValue)) in concurrency group '\(active.concurrencyGroup ?? "")'",
                               hint: "follow it with 'runner runs show \(active.id)', or cancel it with 'runner runs cancel \(active.id)'",
                               contractCode: code, subject: "runner apply")
            console.err(DiagnosticRenderer(colors: console.colorsError).render(d))
            return .conflict
        case .success(.skipped(let id, let active)):
            console.out("⊘ run \(id) skipped: run \(active.id) of its concurrency group is \(active.status.rawValue) (on_conflict: skip)\n")
            return .success
        case .success(.created(let id)):
            return run(id, header: "\(name) · run \(id)", parallelism: parallelism, pipeline: pipeline)
        }
    }

    /// Executes or resumes a run in the foreground until it finishes.
    func run(_ id: RunID, header: String, parallelism: Int? = nil, pipeline: ValidatedPipeline? = nil) -> ExitCode {
        let console = context.console
        let progress = json ? nil : ProgressRenderer(console: console, isTTY: isTTY, header: header)
        let style = Style(enabled: console.colorsError)
        let interrupts = InterruptHandler { [service] n in
            console.err(n == 1 ? style.yellow("\ncancelling: running steps are being stopped; finally steps will run (Ctrl-C again to stop those)\n")
                               : style.yellow("\nstopping the finally steps too (Ctrl-C again to exit at once)\n"))
            service.cancelCurrent()
        }
        var observer: (@Sendable (ExecutionEvent) -> Void)?
        if let progress {
            observer = { @Sendable event in progress.handle(event) }
        } else {
            // --json: stdout is the run's JSON; a wait is still worth saying, on stderr.
            observer = { @Sendable event in
                if case .waitingForGroup(let active, let group) = event {
                    console.err("waiting for run \(active.id) (\(active.status.rawValue)) of concurrency group \(group)\n")
                }
            }
        }
        let echo = progress != nil
        let result: Result<StoredRun, any Error> = blockingAwait { [service, observer] in
            do {
                return .success(try await service.execute(id, parallelism: parallelism, echoOutput: echo, pipeline: pipeline,
                                                           observer: observer))
            } catch {
                return .failure(error)
            }
        }
        progress?.stop()
        _ = interrupts
        switch result {
        case .failure(let error):
            let (diagnostic, exit) = Self.failure(error)
            console.err(DiagnosticRenderer(colors: console.colorsError).render(diagnostic))
            return exit
        case .success(var stored):
            if json {
                // The pipeline in hand says which params are secret (no second parse of the definition).
                let secrets = pipeline.map { Set($0.pipeline.params.filter(\.isSecret).map(\.name.value)) } ?? RunsCommand.secrets(of: stored)
                // Not part of the JSON: not kept while it is written (megabytes at 10,000 steps).
                stored.run.definition = ""
                RunJSON.writeJSON(stored, secrets: secrets, to: console)
            } else {
                console.out(RunSummary.render(stored, style: Style(enabled: console.colorsOutput)))
            }
            return RunSummary.exitCode(stored.run.status)
        }
    }
}

/// The value, leaving an empty one behind (so the caller holds no copy of it).
func take(_ text: inout String) -> String {
    let value = text
    text = ""
    return value
}

extension Execution {
    /// What `apply` and `runs resume` say, and exit with, when a run could not be executed.
    static func failure(_ error: any Error) -> (Diagnostic, ExitCode) {
        RunnerCLI.exitIfOutOfThreads(error)
        guard let failure = error as? RunExecutor.ExecutorError else { return (Diagnostic(.internalError, "\(error)"), .internalError) }
        switch failure {
        case .storeUnavailable:
            return (Diagnostic(.stateBusy, "\(failure)", hint: DiagnosticCode.stateBusy.help), .storeUnavailable)
        case .leaseLost:
            return (Diagnostic(.leaseLost, "\(failure)", hint: DiagnosticCode.leaseLost.help), .conflict)
        case .busy:
            return (Diagnostic(.runBusy, "\(failure)", hint: DiagnosticCode.runBusy.help), .conflict)
        case .notFound:
            return (Diagnostic(.runNotFound, "\(failure)", hint: DiagnosticCode.runNotFound.help), .runFailed)
        case .finished:
            return (Diagnostic(.runFinished, "\(failure)", hint: DiagnosticCode.runFinished.help), .runFailed)
        case .invalidDefinition:
            return (Diagnostic(.definitionUnloadable, "\(failure)", hint: DiagnosticCode.definitionUnloadable.help), .runFailed)
        case .store:
            return (Diagnostic(.stateUnavailable, "\(failure)", hint: DiagnosticCode.stateUnavailable.help), .internalError)
        }
    }
}
