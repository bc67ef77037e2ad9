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
            ParamInputs.param, ParamInputs.params,
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
        do {
            return try apply(arguments, context)
        } catch {
            return error
        }
    }

    private static func apply(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) throws(ExitCode) -> ExitCode {
        let file = arguments.positionals[0]
        let state = StateDirectory.resolve(environment: context.environment, currentDirectory: context.currentDirectory)
        let opening = context.stateOpening.flatMap { !arguments.has("dry-run") && $0.state.root == state.root ? $0 : nil }
        // The bytes validated here are the definition recorded with the run: an edit of the
        // file while this starts cannot make the two differ.
        var (bytes, validated) = try load(file, context)
        let inputs = try ParamInputs.collect(arguments, context)
        let params = try resolve(inputs, for: validated, context)
        let parallelism = try parallelism(arguments, context)
        // gitref params name commits from here on: the run records both the ref and its SHA.
        let absolute = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: context.currentDirectory))
            .standardizedFileURL.path
        let refs = try resolveRefs(validated, params: params, file: absolute, makesRoots: !arguments.has("dry-run"),
                                   context)
        if arguments.has("dry-run") {
            let plan = PlanModel(validated, params: params, given: Set(inputs.map(\.name)),
                                 environment: context.environment, refs: refs)
            context.console.out(PlanTextRenderer(style: Style(enabled: context.console.colorsOutput)).render(plan))
            context.console.out("\ndry run: nothing was executed or recorded\n")
            return .success
        }
        var definition = String(decoding: bytes, as: UTF8.self)
        bytes = []
        let service = try openService(state, opening, context)
        // The definition is stored with the run; no copy of it is kept here while the run runs.
        return Execution(service: service, context: context, json: arguments.has("json"))
            .admitAndRun(LoadedPipeline(pipeline: validated, definition: take(&definition), file: absolute),
                         checked: LaunchCheck.Checked(params: params, refs: refs), parallelism: parallelism)
    }

    /// The file's bytes and the pipeline they validate to; every diagnostic is printed.
    private static func load(_ file: String,
                             _ context: RunnerCLI.Context) throws(ExitCode) -> ([UInt8], ValidatedPipeline) {
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        let bytes: [UInt8]
        switch PipelineLoader.readFile(file) {
        case .success(let read): bytes = read
        case .failure(let d):
            context.console.err(renderer.render(d))
            throw .invalid
        }
        var loaded = PipelineLoader.load(bytes: bytes, file: file).confiningWorkdirs(file: file)
        // The syntax tree is not needed from here on: at 10,000 steps it is megabytes kept
        // for the whole run otherwise. Freed on another core meanwhile.
        BackgroundRelease.release(loaded.syntaxTree.take())
        loaded.diagnostics.forEach { context.console.err(renderer.render($0)) }
        guard let validated = loaded.pipeline else { throw .invalid }
        return (bytes, validated)
    }

    /// The params checked against their declarations; on an error, every diagnostic and the
    /// declarations are printed.
    private static func resolve(_ inputs: [(name: String, input: ParamInput)], for validated: ValidatedPipeline,
                                _ context: RunnerCLI.Context) throws(ExitCode) -> [String: Value] {
        let resolution = ParamResolver.resolve(inputs, against: validated.pipeline.params)
        guard resolution.diagnostics.hasErrors else { return resolution.values }
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        resolution.diagnostics.forEach { context.console.err(renderer.render($0)) }
        context.console.err("\(renderer.style.red("error")): invalid params for pipeline "
                            + "'\(validated.pipeline.name.value)'\n" + ParamTable.render(validated.pipeline.params))
        throw .invalid
    }

    private static func parallelism(_ arguments: ParsedArguments,
                                    _ context: RunnerCLI.Context) throws(ExitCode) -> Int {
        guard let text = arguments.value("parallelism") else { return ParallelMap.cores }
        guard let n = Int(text), n >= 1, n <= 1024 else {
            let error = UsageError(message: "--parallelism takes a number from 1 to 1024, got '\(text)'", hint: nil)
            throw RunnerCLI.usageError(error, context)
        }
        return n
    }

    /// The gitref params resolved, and the path params checked on disk, as the engine checks
    /// the launches of the other front doors (a root's `{actor}` is `cli:<user>`).
    private static func resolveRefs(_ validated: ValidatedPipeline, params: [String: Value], file: String,
                                    makesRoots: Bool,
                                    _ context: RunnerCLI.Context) throws(ExitCode) -> [String: RecordedRef] {
        let git = GitRefs.resolve(validated, params: params, pipelineFile: file, git: Composition.git)
        let problems = git.diagnostics + PathParams.check(validated, params: params, pipelineFile: file,
                                                          actor: LocalAudit.actor, environment: context.environment,
                                                          makesRoots: makesRoots)
        guard problems.isEmpty else {
            let renderer = DiagnosticRenderer(colors: context.console.colorsError)
            problems.forEach { context.console.err(renderer.render($0)) }
            throw .invalid
        }
        return git.refs
    }

    /// The run state, as `StateOpening` opened it meanwhile, or opened now.
    private static func openService(_ state: StateDirectory, _ opening: StateOpening?,
                                    _ context: RunnerCLI.Context) throws(ExitCode) -> RunService {
        do {
            if let opening {
                return try Composition.service(state: state, environment: context.environment, store: try opening.wait())
            }
            return try Composition.service(state: state, environment: context.environment)
        } catch {
            let (diagnostic, exit) = RunsCommand.openFailure(error)
            context.console.err(DiagnosticRenderer(colors: context.console.colorsError).render(diagnostic))
            throw exit
        }
    }
}
