#if canImport(Glibc)
import Glibc
#endif
import CProcess
import FoundationEssentials
import RunnerJSON
import RunnerCore
import RunnerEngine
import RunnerGit
import RunnerYAML

/// `runner hook install|uninstall|list|run`: git events launch pipelines.
///
/// The installed hook is a small shell script that names the runner binary and carries its
/// registrations as comment lines (`# runner-hook-entry: {json}`), so `list` and `run` need
/// no other file. A hook that was there before is renamed `<event>.runner-chained` and run
/// first, with the same input; uninstalling the last registration puts it back.
enum HookCommand {
    static let spec = CommandSpec(name: "hook", summary: "Launch pipelines from git hooks (post-receive, post-commit, ...)",
                                  usage: "runner hook <install|uninstall|list|run> ...", options: [], positionalName: "a command",
                                  positionals: 0...0)

    static let repoOption = CommandSpec.Option(long: "repo", short: nil, valueName: "PATH", help: "the git repository (bare or not; default .)")

    static let subcommands: [RunnerCLI.Command] = [
        .init(spec: CommandSpec(
            name: "install", summary: "Install a hook that launches a pipeline when refs change",
            usage: "runner hook install [--repo PATH] (--pipeline FILE [--event EVENT]... [--ref GLOB]... [--param-for-ref NAME] | --from-pipelines DIR)",
            options: [repoOption,
                      .init(long: "pipeline", short: nil, valueName: "FILE", help: "the pipeline to launch"),
                      .init(long: "event", short: nil, valueName: "EVENT",
                            help: "post-receive, post-commit, post-merge or reference-transaction (default: triggers.git.events, else post-receive)",
                            isRepeatable: true),
                      .init(long: "ref", short: nil, valueName: "GLOB", help: "refs that launch a run, e.g. refs/heads/main (default: triggers.git.refs)",
                            isRepeatable: true),
                      .init(long: "param-for-ref", short: nil, valueName: "NAME", help: "the gitref param given the new commit (default: triggers.git.param)"),
                      .init(long: "from-pipelines", short: nil, valueName: "DIR", help: "install what every pipeline of DIR declares in triggers.git"),
                      .init(long: "server", short: nil, valueName: "URL", help: "launch through this runner server's API (the pipeline may then be a NAME)"),
                      .init(long: "token-file", short: nil, valueName: "FILE", help: "the server token, an operator's (with --server)")],
            positionalName: "nothing", positionals: 0...0,
            discussion: """
            Runs are recorded in the state directory in effect here (.runner/ or $RUNNER_HOME), whatever directory git runs
            the hook in. Installing the same pipeline again updates its registration; an existing hook is kept and chained.
            """), run: install),
        .init(spec: CommandSpec(
            name: "uninstall", summary: "Remove runner's hook registrations (and restore a chained hook)",
            usage: "runner hook uninstall [--repo PATH] [--event EVENT]... [--pipeline FILE]",
            options: [repoOption,
                      .init(long: "event", short: nil, valueName: "EVENT", help: "only this event (default: all)", isRepeatable: true),
                      .init(long: "pipeline", short: nil, valueName: "FILE", help: "only this pipeline's registration (default: all)")],
            positionalName: "nothing", positionals: 0...0), run: uninstall),
        .init(spec: CommandSpec(
            name: "list", summary: "List the pipelines git hooks launch in a repository",
            usage: "runner hook list [--repo PATH] [--json]",
            options: [repoOption, .init(long: "json", short: nil, valueName: nil, help: "print JSON")],
            positionalName: "nothing", positionals: 0...0), run: list),
        .init(spec: CommandSpec(
            name: "run", summary: "What an installed hook calls: launch a run per matching ref update",
            usage: "runner hook run EVENT --hook FILE [HOOK-ARGUMENTS]...",
            options: [.init(long: "hook", short: nil, valueName: "FILE", help: "the installed hook, which holds the registrations")],
            positionalName: "the event and the hook's own arguments", positionals: 1...4,
            discussion: """
            post-receive and reference-transaction ('committed' only) read '<old> <new> <ref>' lines on stdin; post-commit and
            post-merge use HEAD. A deleted ref launches nothing. Each run is admitted here (the pipeline's concurrency rule
            applies at once, and its answer is printed) and executed by a detached runner, so git is not held up; that runner's output
            goes to logs/hooks.log in the state directory.
            """), run: run),
        .init(spec: CommandSpec(
            name: "launch", summary: "(internal) execute a run a hook admitted, detached from git",
            usage: "runner hook launch --run ID",
            options: [.init(long: "run", short: nil, valueName: "ID", help: "the admitted run")],
            positionalName: "nothing", positionals: 0...0), run: launch),
    ]

    // MARK: - run (what git calls)

    /// stdin, all of it: the ref updates git gives post-receive and reference-transaction.
    static func standardInput() -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = read(STDIN_FILENO, &buffer, buffer.count)
            if count > 0 {
                bytes += buffer[..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return String(decoding: bytes, as: UTF8.self)
            }
        }
    }

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let event = arguments.positionals[0]
        if let problem = unknownEvent([event]) { return fail(problem, context, .usage) }
        guard let hook = arguments.value("hook"), let text = try? String(contentsOfFile: hook, encoding: .utf8),
              let entries = HookFile.entries(inHook: text) else {
            return fail(Diagnostic(.usage, "--hook must name a hook installed by `runner hook install`"), context, .usage)
        }
        let updates = RefUpdate.updates(event: event, hookArguments: Array(arguments.positionals.dropFirst()),
                                        input: standardInput(), head: (try? GitRepository(path: "."))?.head())
        let repository = (try? GitRepository(path: "."))?.path ?? context.currentDirectory
        let pusher = RefUpdate.pusher(context.environment)
        var status = ExitCode.success
        for entry in entries {
            if let server = entry.server {
                let code = launchRemote(entry, server: server, updates: updates, event: event, repository: repository, pusher: pusher, context: context)
                if code != .success { status = code }
                continue
            }
            let loaded = PipelineLoader.load(path: entry.pipeline)
            guard let pipeline = loaded.pipeline else {
                context.console.err("runner: \(entry.pipeline) does not load; nothing launched (run `runner validate \(entry.pipeline)`)\n")
                status = .invalid
                continue
            }
            let globs = entry.refs ?? pipeline.pipeline.triggers.git?.refs.map(\.value) ?? []
            for update in updates where !update.isDeletion && globs.contains(where: { fnmatch($0, update.ref, 0) == 0 }) {
                let code = launch(entry, pipeline: pipeline, update: update, event: event, repository: repository, pusher: pusher,
                                  context: context)
                if code != .success { status = code }
            }
        }
        return status
    }

    /// Launches one run for a ref update (the pipeline's concurrency rule answers at once; a
    /// queued run waits in the detached runner) and hands it to a detached runner.
    static func launch(_ entry: HookEntry, pipeline: ValidatedPipeline, update: RefUpdate, event: String, repository: String,
                       pusher: String?, context: RunnerCLI.Context) -> ExitCode {
        let name = pipeline.pipeline.name.value
        let console = context.console
        let short = String(update.new.prefix(12))
        switch admit(entry, pipeline: pipeline, update: update, event: event, repository: repository, pusher: pusher, context: context) {
        case .failure(let failed): return failed.code
        case .success(.accepted(let run)):
            return detach(["hook", "launch", "--run", run.id.rawValue], state: entry.state, context: context,
                          note: "runner: \(name): run \(run.id) launched for \(update.ref) at \(short)")
        case .success(.rejected(let active, let code)):
            console.err("runner: \(name): not launched for \(update.ref) at \(short): run \(active.id) is \(active.status.rawValue) (\(code))\n")
            appendLog(entry.state, "rejected \(name) \(update.ref) \(update.new): run \(active.id) is \(active.status.rawValue) (\(code))")
            return .conflict
        case .success(.skipped(let run, let active)):
            console.err("runner: \(name): run \(run.id) skipped: run \(active.id) is \(active.status.rawValue) "
                        + "(on_conflict: skip)\n")
            return .success
        case .success(.invalid(let problems)):
            let renderer = DiagnosticRenderer(colors: console.colorsError)
            problems.forEach { console.err(renderer.render($0)) }
            appendLog(entry.state, "not launched \(name) \(update.ref) \(update.new): "
                      + problems.map(\.message).joined(separator: "; "))
            return .invalid
        case .success(.replayed), .success(.keyMismatch), .success(.keyInFlight):
            return .internalError // no Idempotency-Key is sent from here
        }
    }

    /// A registration with `--server`: each matching update is a launch through the API with
    /// `trigger: hook` and the update's details. The server resolves the SHA in its pipeline's
    /// repository, which must have the pushed commit.
    static func launchRemote(_ entry: HookEntry, server: String, updates: [RefUpdate], event: String, repository: String,
                             pusher: String?, context: RunnerCLI.Context) -> ExitCode {
        var name = entry.name, globs = entry.refs ?? [], param = entry.param
        if name == nil, let pipeline = PipelineLoader.load(path: entry.pipeline).pipeline {
            name = pipeline.pipeline.name.value
            if entry.refs == nil { globs = pipeline.pipeline.triggers.git?.refs.map(\.value) ?? [] }
            param = param ?? pipeline.pipeline.triggers.git?.param?.value
        }
        guard let name, let param else {
            context.console.err("runner: \(entry.pipeline): no pipeline name or param for the commit; nothing launched\n")
            return .invalid
        }
        guard let tokenFile = entry.tokenFile, let data = FileManager.default.contents(atPath: tokenFile), let url = URL(string: server) else {
            context.console.err("runner: \(name): cannot read the token file for \(server); nothing launched\n")
            return .internalError
        }
        let client = APIClient(base: url, token: String(decoding: data, as: UTF8.self).trimmingWhitespace())
        var status = ExitCode.success
        for update in updates where !update.isDeletion && globs.contains(where: { fnmatch($0, update.ref, 0) == 0 }) {
            var detail: [String: JSONValue] = ["event": .string(event), "ref": .string(update.ref), "new": .string(update.new),
                                               "repository": .string(repository)]
            if !update.old.isEmpty { detail["old"] = .string(update.old) }
            if let pusher { detail["pusher"] = .string(pusher) }
            let body = JSONValue.object(["params": .object([param: .string(update.new)]), "trigger": .string("hook"),
                                         "trigger_detail": .object(detail)])
            let escaped = URLText.escaped(name)
            switch client.send("POST", "/api/v1/pipelines/\(escaped)/runs", body: body) {
            case .failure(let f):
                context.console.err("runner: \(name): \(f.description)\n")
                status = .internalError
            case .success(let reply):
                if (200..<300).contains(reply.status), let id = reply.json?["run_id"]?.string {
                    context.console.err("runner: \(name): run \(id) launched on \(server) for \(update.ref) at \(update.new.prefix(12))\n")
                } else {
                    context.console.err("runner: \(name): not launched for \(update.ref) at \(update.new.prefix(12)): ")
                    APIClient.render(reply, context)
                    status = APIClient.exitCode(reply.status)
                }
            }
        }
        return status
    }

    struct Failed: Error { var code: ExitCode }

    /// The engine's launch of the commit `update` names, in the state directory the hook was
    /// installed with (not audited: the hook runs as the account that pushes or commits).
    static func admit(_ entry: HookEntry, pipeline: ValidatedPipeline, update: RefUpdate, event: String, repository: String,
                      pusher: String?, context: RunnerCLI.Context) -> Result<LaunchOutcome, Failed> {
        guard let param = entry.param ?? pipeline.pipeline.triggers.git?.param?.value else {
            context.console.err("runner: \(pipeline.pipeline.name.value): no param takes the commit "
                                + "(set triggers.git.param or install with --param-for-ref)\n")
            return .failure(Failed(code: .invalid))
        }
        let definition = (try? String(contentsOfFile: entry.pipeline, encoding: .utf8)) ?? ""
        let loaded = LoadedPipeline(pipeline: pipeline, definition: definition, file: entry.pipeline)
        var request = LaunchRequest(pipeline: loaded, params: .given([(name: param, input: .text(update.new))]),
                                    trigger: .hook, parallelism: ProcessInfo.processInfo.activeProcessorCount)
        request.repositories = [param: repository]
        request.triggerDetail = ["event": event, "ref": update.ref, "new": update.new, "repository": repository]
        if !update.old.isEmpty { request.triggerDetail["old"] = update.old }
        if let pusher { request.triggerDetail["pusher"] = pusher }
        let environment = context.environment.merging(["RUNNER_HOME": entry.state]) { $1 }
        do {
            let state = StateDirectory(root: URL(fileURLWithPath: entry.state))
            let service = try Composition.service(state: state, environment: environment)
            return .success(try service.launch(request))
        } catch {
            let renderer = DiagnosticRenderer(colors: context.console.colorsError)
            context.console.err(renderer.render(Diagnostic(.internalError, "\(error)")))
            return .failure(Failed(code: .internalError))
        }
    }

    /// Starts `runner ARGS` detached from git: its own process group, stdin from /dev/null,
    /// output appended to logs/hooks.log, no descriptor of git's inherited, no GIT_*
    /// variable (they describe the hook's repository, not the steps').
    static func detach(_ arguments: [String], state: String, context: RunnerCLI.Context, note: String) -> ExitCode {
        let logs = state + "/logs"
        try? FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let fd = open(logs + "/hooks.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            context.console.err("runner: cannot open \(logs)/hooks.log: \(String(cString: strerror(errno)))\n")
            return .internalError
        }
        defer { close(fd) }
        var environment = context.environment.filter { !$0.key.hasPrefix("GIT_") }
        environment["RUNNER_HOME"] = state
        let argv = [runnerPath] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let cwd = URL(fileURLWithPath: state).deletingLastPathComponent().path
        let result = withCStrings(argv) { a in withCStrings(envp) { e in runner_spawn(a, e, cwd, fd, fd, &pid) } }
        guard result == 0 else {
            context.console.err("runner: cannot start \(runnerPath): \(String(cString: strerror(result)))\n")
            return .internalError
        }
        context.console.err(note + " (log: \(logs)/hooks.log)\n")
        return .success
    }

    static func appendLog(_ state: String, _ line: String) {
        try? FileManager.default.createDirectory(atPath: state + "/logs", withIntermediateDirectories: true)
        let fd = open(state + "/logs/hooks.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let text = "\(Timestamp.format(Date())) \(line)\n"
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    // MARK: - launch (detached)

    static func launch(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        guard let id = arguments.value("run") else {
            return fail(Diagnostic(.usage, "hook launch takes --run ID"), context, .usage)
        }
        let state = StateDirectory.resolve(environment: context.environment, currentDirectory: context.currentDirectory)
        let service: RunService
        do {
            service = try Composition.service(state: state, environment: context.environment)
        } catch {
            let (diagnostic, exit) = RunsCommand.openFailure(error)
            return fail(diagnostic, context, exit)
        }
        return Execution(service: service, context: context, json: false).run(RunID(id), header: "run \(id) (hook)")
    }
}
