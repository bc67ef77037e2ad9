import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerGit
import RunnerJSON
import RunnerYAML

/// `runner hook install|uninstall|list`: the options and messages; the hook files themselves
/// are RunnerGit's (`HookFile`, `HookInstaller`).
extension HookCommand {
    typealias Wanted = (event: String, entry: HookEntry)
    /// `--server URL` and the absolute path of `--token-file`.
    typealias Server = (url: String, tokenFile: String)

    /// This binary, absolute: what the installed hook calls.
    static var runnerPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    static func absolute(_ path: String, _ context: RunnerCLI.Context) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: context.currentDirectory)).standardizedFileURL.path
    }

    /// The installer for `--repo` (default .); nil once it has said why there is none (exit 64).
    static func installer(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> HookInstaller? {
        let path = absolute(arguments.value("repo") ?? ".", context)
        do {
            return try HookInstaller(repository: path, runner: runnerPath)
        } catch {
            _ = fail(Diagnostic(.usage, "\(error)", hint: "give the repository with --repo PATH"), context, .usage)
            return nil
        }
    }

    static func fail(_ d: Diagnostic, _ context: RunnerCLI.Context, _ code: ExitCode) -> ExitCode {
        context.console.err(DiagnosticRenderer(colors: context.console.colorsError).render(d))
        return code
    }

    /// Prints the usage error and stops the command with exit 64.
    static func usage(_ d: Diagnostic, _ context: RunnerCLI.Context) -> Failed {
        _ = fail(d, context, .usage)
        return Failed(code: .usage)
    }

    static func usage(_ message: String, hint: String? = nil, _ context: RunnerCLI.Context) -> Failed {
        usage(Diagnostic(.usage, message, hint: hint), context)
    }

    static func unknownEvent(_ events: [String]) -> Diagnostic? {
        events.first { !HookFile.events.contains($0) }.map {
            Diagnostic(.usage, "unknown git event '\($0)'", hint: "one of \(HookFile.events.joined(separator: ", "))")
        }
    }

    // MARK: - install

    static func install(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        var server: Server?
        switch APIClient.from(arguments, context) {
        case .failure(let f)?: return fail(Diagnostic(.usage, f.description), context, .usage)
        case .success?:
            // Both are there: `APIClient.from` checked them.
            server = (arguments.value("server") ?? "", absolute(arguments.value("token-file") ?? "", context))
        case nil: break
        }
        guard let installer = installer(arguments, context) else { return .usage }
        let state = StateDirectory.resolve(environment: context.environment, currentDirectory: context.currentDirectory)
            .root.path
        let wanted = if let directory = arguments.value("from-pipelines") {
            registrations(fromPipelines: directory, arguments, state: state, context)
        } else {
            registrations(arguments, state: state, server: server, context)
        }
        switch wanted {
        case .failure(let failed): return failed.code
        case .success(let wanted): return write(wanted, installer, context)
        }
    }

    /// `--from-pipelines DIR`: what each pipeline of DIR declares in `triggers.git`.
    static func registrations(fromPipelines directory: String, _ arguments: ParsedArguments, state: String,
                              _ context: RunnerCLI.Context) -> Result<[Wanted], Failed> {
        guard arguments.value("pipeline") == nil, arguments.values("ref").isEmpty,
              arguments.value("param-for-ref") == nil, arguments.values("event").isEmpty else {
            let message = "--from-pipelines takes the events, refs and param from each pipeline's triggers.git"
            return .failure(usage(message, hint: "use --pipeline FILE to give them yourself", context))
        }
        var wanted: [Wanted] = []
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: absolute(directory, context))) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        for name in files {
            let file = absolute(directory, context) + "/" + name
            guard let pipeline = PipelineLoader.load(path: file).pipeline else {
                context.console.err("runner: skipping \(file): it does not load (run `runner validate \(file)`)\n")
                continue
            }
            for event in pipeline.pipeline.triggers.git?.events ?? [] {
                wanted.append((event.rawValue, HookEntry(pipeline: file, refs: nil, param: nil, state: state)))
            }
        }
        guard !wanted.isEmpty else {
            let hint = "e.g. git: {events: [post-receive], refs: [refs/heads/main], param: targetRef}"
            return .failure(usage("no pipeline in \(directory) declares triggers.git", hint: hint, context))
        }
        return .success(wanted)
    }

    /// `--pipeline FILE` (or, with `--server`, the NAME of a pipeline the server knows).
    static func registrations(_ arguments: ParsedArguments, state: String, server: Server?,
                              _ context: RunnerCLI.Context) -> Result<[Wanted], Failed> {
        guard let file = arguments.value("pipeline") else {
            return .failure(usage("which pipeline? give --pipeline FILE or --from-pipelines DIR", context))
        }
        let path = absolute(file, context)
        if let server, !FileManager.default.fileExists(atPath: path) {
            return registrations(serverPipeline: file, arguments, state: state, server: server, context)
        }
        let loaded = PipelineLoader.load(path: path)
        guard let pipeline = loaded.pipeline else {
            let renderer = DiagnosticRenderer(colors: context.console.colorsError)
            loaded.diagnostics.forEach { context.console.err(renderer.render($0)) }
            return .failure(Failed(code: .invalid))
        }
        let git = pipeline.pipeline.triggers.git
        let refs = arguments.values("ref")
        if let problem = refProblem(refs, declared: git?.refs ?? [])
            ?? paramProblem(arguments.value("param-for-ref"), pipeline) {
            return .failure(usage(problem, context))
        }
        // Default: what the pipeline declares, else post-receive (a push to this repository).
        var events = arguments.values("event").isEmpty ? (git?.events.map(\.rawValue) ?? []) : arguments.values("event")
        if events.isEmpty { events = ["post-receive"] }
        if let problem = unknownEvent(events) { return .failure(usage(problem, context)) }
        // What the pipeline declares stays in the pipeline: read when the hook fires.
        let entry = HookEntry(pipeline: path, refs: refs.isEmpty ? nil : refs, param: arguments.value("param-for-ref"),
                              state: state, server: server?.url, tokenFile: server?.tokenFile)
        return .success(events.map { ($0, entry) })
    }

    /// A pipeline the server knows by name: refs and param must be given here.
    static func registrations(serverPipeline name: String, _ arguments: ParsedArguments, state: String,
                              server: Server, _ context: RunnerCLI.Context) -> Result<[Wanted], Failed> {
        let refs = arguments.values("ref")
        guard !refs.isEmpty, let param = arguments.value("param-for-ref") else {
            return .failure(usage("'\(name)' is not a file: as a pipeline name on the server it needs --ref GLOB "
                                  + "and --param-for-ref NAME", context))
        }
        let events = arguments.values("event").isEmpty ? ["post-receive"] : arguments.values("event")
        if let problem = unknownEvent(events) { return .failure(usage(problem, context)) }
        let entry = HookEntry(pipeline: name, refs: refs, param: param, state: state, server: server.url,
                              tokenFile: server.tokenFile, name: name)
        return .success(events.map { ($0, entry) })
    }

    static func refProblem(_ refs: [String], declared: [Located<String>]) -> Diagnostic? {
        if refs.isEmpty && declared.isEmpty {
            return Diagnostic(.usage, "which refs launch a run? the pipeline declares no triggers.git.refs",
                              hint: "give --ref GLOB, e.g. --ref refs/heads/main")
        }
        return refs.first { !$0.hasPrefix("refs/") && $0 != "HEAD" }.map {
            Diagnostic(.usage, "--ref '\($0)' must be a full ref name or glob",
                       hint: "e.g. refs/heads/\($0) or refs/tags/\($0)")
        }
    }

    /// The param given the new commit (`--param-for-ref`, else `triggers.git.param`) must be
    /// a gitref param of the pipeline.
    static func paramProblem(_ given: String?, _ pipeline: ValidatedPipeline) -> Diagnostic? {
        let param = given ?? pipeline.pipeline.triggers.git?.param?.value
        let params = pipeline.pipeline.params
        if let param, let spec = params.first(where: { $0.name.value == param }), case .gitref = spec.kind {
            return nil
        }
        let gitrefs = params.filter { if case .gitref = $0.kind { true } else { false } }.map(\.name.value)
        return Diagnostic(.usage, param.map { "'\($0)' is not a gitref param of \(pipeline.pipeline.name.value)" }
                          ?? "which param gets the new commit? the pipeline declares no triggers.git.param",
                          hint: gitrefs.first.map { "give --param-for-ref \($0)" } ?? "declare a param of type gitref")
    }

    static func write(_ wanted: [Wanted], _ installer: HookInstaller, _ context: RunnerCLI.Context) -> ExitCode {
        do {
            for event in Set(wanted.map(\.event)).sorted() {
                let adopted = try installer.adopt(event)
                if adopted.hasChainedExisting {
                    let chained = event + HookFile.chainedSuffix
                    context.console.err("kept the existing \(event) hook: it runs first, as \(chained)\n")
                }
                let added = wanted.filter { $0.event == event }.map(\.entry)
                try installer.write(event, entries: HookFile.merging(added, into: adopted.entries))
                for entry in added {
                    let refs = entry.refs.map { " on \($0.joined(separator: ", "))" }
                        ?? " (refs and param from its triggers.git)"
                    let destination = entry.server.map { " · launched through \($0)" }
                        ?? " · runs recorded in \(entry.state)"
                    context.console.out("installed \(event) → \(entry.pipeline)" + refs + destination + "\n")
                }
            }
        } catch {
            return fail(Diagnostic(.internalError, "\(error)"), context, .internalError)
        }
        return .success
    }

    // MARK: - uninstall, list

    static func uninstall(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        guard let installer = installer(arguments, context) else { return .usage }
        let only = arguments.value("pipeline").map { absolute($0, context) }
        var removed = 0
        do {
            for event in arguments.values("event").isEmpty ? HookFile.events : arguments.values("event") {
                let removal = try installer.unregister(event, pipeline: only)
                removed += removal.removed
                if removal.hasRestoredChained { context.console.out("restored the earlier \(event) hook\n") }
            }
        } catch {
            return fail(Diagnostic(.internalError, "\(error)"), context, .internalError)
        }
        context.console.out("removed \(removed) registration\(removed == 1 ? "" : "s")\n")
        return .success
    }

    static func list(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        guard let installer = installer(arguments, context) else { return .usage }
        let listed = installer.list()
        if arguments.has("json") {
            context.console.out(JSONOutput.encode(listed))
            return .success
        }
        if listed.isEmpty { context.console.out("no runner hooks in \(installer.directory)\n") }
        for l in listed {
            let chained = l.chained ? " (runs \(l.event + HookFile.chainedSuffix) first)" : ""
            context.console.out("\(l.event)  \(l.hook)\(chained)\n")
            for e in l.entries {
                context.console.out("  \(e.pipeline)  refs: \(e.refs?.joined(separator: ", ") ?? "from triggers.git")"
                                    + "  param: \(e.param ?? "from triggers.git")  state: \(e.state)\n")
            }
        }
        return .success
    }
}
