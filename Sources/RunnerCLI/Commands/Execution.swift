#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerJSON

/// Running a run in the foreground, shared by `apply` and `runs resume`.
struct Execution {
    let service: RunService
    let context: RunnerCLI.Context
    let json: Bool

    var isTTY: Bool { context.console.colorsOutput || (isatty(1) == 1 && context.environment["TERM"] != "dumb") }

    /// Launches the run (after finishing the pipeline's runs whose runner stopped) and runs it
    /// in the foreground. Not audited: it runs the pipeline as the account that could run its
    /// scripts anyway; the run's actor is that account, `cli:<user>`.
    func admitAndRun(_ loaded: LoadedPipeline, checked: LaunchCheck.Checked, parallelism: Int) -> ExitCode {
        let name = loaded.name, pipeline = loaded.pipeline
        let outcome: Result<LaunchOutcome, any Error> = Result {
            try finishOrphans(of: name)
            var request = LaunchRequest(pipeline: loaded, params: .checked(checked), trigger: .cli,
                                        parallelism: parallelism)
            request.actor = LocalAudit.actor
            return try service.launch(request)
        }
        let console = context.console, renderer = DiagnosticRenderer(colors: console.colorsError)
        switch outcome {
        case .failure(let error) where error.isTransientStoreFailure:
            console.err(renderer.render(Diagnostic(.stateBusy, "cannot record the run now: \(error)",
                                                   hint: DiagnosticCode.stateBusy.help)))
            return .storeUnavailable
        case .failure(let error):
            console.err(renderer.render(Diagnostic(.internalError, "\(error)")))
            return .internalError
        case .success(.rejected(let active, let code)):
            let d = Diagnostic(.usage, LaunchOutcome.conflictMessage(pipeline: name, active: active),
                               hint: "follow it with 'runner runs show \(active.id)', "
                                   + "or cancel it with 'runner runs cancel \(active.id)'",
                               contractCode: code, subject: "runner apply")
            console.err(renderer.render(d))
            return .conflict
        case .success(.skipped(let run, let active)):
            console.out("⊘ run \(run.id) skipped: run \(active.id) of its concurrency group is "
                        + "\(active.status.rawValue) (on_conflict: skip)\n")
            return .success
        case .success(.accepted(let run)):
            return self.run(run.id, header: "\(name) · run \(run.id)", parallelism: parallelism, pipeline: pipeline)
        case .success(.invalid(let problems)):
            problems.forEach { console.err(renderer.render($0)) }
            return .invalid
        case .success(.replayed), .success(.keyMismatch), .success(.keyInFlight):
            return .internalError // no Idempotency-Key is sent from here
        }
    }

    /// The pipeline's unfinished runs whose runner stopped are finished first, here; one
    /// waiting for a later time is left to `runner runs resume`.
    private func finishOrphans(of name: String) throws {
        let console = context.console, style = Style(enabled: console.colorsError)
        for orphan in try service.orphans(pipeline: name) {
            if orphan.status == .waiting, let wake = orphan.wakeAt, wake > Date() {
                // Nothing to do before its time; finishing it here would hold this apply until then.
                console.err(style.yellow("note") + ": run \(orphan.id) of \(name) is waiting until "
                            + "\(RunJSON.time(wake) ?? "later") and its runner stopped; "
                            + "continue it with 'runner runs resume \(orphan.id)'\n")
                continue
            }
            console.err(style.yellow("note")
                        + ": run \(orphan.id) of \(name) was interrupted (its runner stopped); finishing it first\n")
            let id = orphan.id
            _ = blockingAwait { [service] in try? await service.resume(id) }
        }
    }

    /// Executes or resumes a run in the foreground until it finishes.
    func run(_ id: RunID, header: String, parallelism: Int? = nil, pipeline: ValidatedPipeline? = nil) -> ExitCode {
        let console = context.console
        let progress = json ? nil : ProgressRenderer(console: console, isTTY: isTTY, header: header)
        let style = Style(enabled: console.colorsError)
        let interrupts = InterruptHandler { [service] n in
            console.err(n == 1 ? style.yellow("\ncancelling: running steps are being stopped; finally steps will run "
                                              + "(Ctrl-C again to stop those)\n")
                               : style.yellow("\nstopping the finally steps too (Ctrl-C again to exit at once)\n"))
            service.cancelCurrent()
        }
        let observer = self.observer(progress)
        let echo = progress != nil
        // Ctrl-C is handled until the run has ended (an optimized build may otherwise release
        // the handler after its last use, its creation).
        let result: Result<StoredRun, any Error> = withExtendedLifetime(interrupts) {
            blockingAwait { [service, observer] in
                do {
                    return .success(try await service.execute(id, parallelism: parallelism, echoOutput: echo,
                                                              pipeline: pipeline, observer: observer))
                } catch {
                    return .failure(error)
                }
            }
        }
        progress?.stop()
        return report(result, pipeline: pipeline)
    }

    /// The progress display, or with --json (stdout is the run's JSON) a wait said on stderr.
    private func observer(_ progress: ProgressRenderer?) -> @Sendable (ExecutionEvent) -> Void {
        if let progress { return { @Sendable event in progress.handle(event) } }
        let console = context.console
        return { @Sendable event in
            if case .waitingForGroup(let active, let group) = event {
                console.err("waiting for run \(active.id) (\(active.status.rawValue)) of concurrency group \(group)\n")
            }
        }
    }

    /// The finished run, as JSON or a summary, and its exit code; or why it could not run.
    private func report(_ result: Result<StoredRun, any Error>, pipeline: ValidatedPipeline?) -> ExitCode {
        let console = context.console
        switch result {
        case .failure(let error):
            let (diagnostic, exit) = Self.failure(error)
            console.err(DiagnosticRenderer(colors: console.colorsError).render(diagnostic))
            return exit
        case .success(var stored):
            if json {
                // The pipeline in hand says which params are secret (no second parse of the definition).
                let secrets = pipeline.map { Set($0.pipeline.params.filter(\.isSecret).map(\.name.value)) }
                    ?? RunsCommand.secrets(of: stored)
                let weights = pipeline.map { RunProgress.weights(of: $0.pipeline) }
                    ?? StoredDefinition.progressWeights(of: stored)
                // Not part of the JSON: not kept while it is written (megabytes at 10,000 steps).
                stored.run.definition = ""
                RunJSON.writeJSON(stored, secrets: secrets, weights: weights, to: console)
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
        guard let failure = error as? RunExecutor.ExecutorError else {
            return (Diagnostic(.internalError, "\(error)"), .internalError)
        }
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
            return (Diagnostic(.definitionUnloadable, "\(failure)", hint: DiagnosticCode.definitionUnloadable.help),
                    .runFailed)
        case .store:
            return (Diagnostic(.stateUnavailable, "\(failure)", hint: DiagnosticCode.stateUnavailable.help),
                    .internalError)
        }
    }
}
