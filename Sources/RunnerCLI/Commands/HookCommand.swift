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

    // MARK: - The hook file

    /// One registration: which pipeline a hook launches, for which refs, with which param.
    struct Entry: Codable, Equatable {
        /// The pipeline file (absolute).
        var pipeline: String
        /// Ref globs; nil: the pipeline's `triggers.git.refs`, read when the hook fires.
        var refs: [String]?
        /// The gitref param given the new commit; nil: `triggers.git.param`.
        var param: String?
        /// The state directory runs are recorded in (absolute).
        var state: String
        /// Launch through this runner server instead (`--server`), with the token in this file.
        var server: String? = nil
        var tokenFile: String? = nil
        /// The pipeline's name on the server, when `pipeline` is a name rather than a file.
        var name: String? = nil
    }

    static let marker = "# runner-hook: managed by `runner hook install`"
    static let entryPrefix = "# runner-hook-entry: "
    static let chainedSuffix = ".runner-chained"
    static let events = GitTrigger.Event.allCases.map(\.rawValue)

    static func entries(inHook text: String) -> [Entry]? {
        guard text.contains(marker) else { return nil }
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(entryPrefix) else { return nil }
            return try? JSONDecoder().decode(Entry.self, from: Data(line.dropFirst(entryPrefix.count).utf8))
        }
    }

    /// Single-quoted for sh: no expansion of anything inside.
    static func shellQuoted(_ text: String) -> String { "'" + text.replacing("'", with: "'\\''") + "'" }

    static func script(event: String, runner: String, entries: [Entry]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let lines = entries.map { entryPrefix + String(decoding: (try? encoder.encode($0)) ?? Data(), as: UTF8.self) }
        let readsInput = event == "post-receive" || event == "reference-transaction"
        var out = """
        #!/bin/sh
        \(marker)
        # Launches runner pipelines on \(event). Change it with `runner hook install|uninstall`,
        # see it with `runner hook list`. A hook that was here before runs first: \(event)\(chainedSuffix).
        \(lines.joined(separator: "\n"))
        runner=\(shellQuoted(runner))
        status=0

        """
        if readsInput {
            out += """
            input=$(mktemp) || exit 0
            cat > "$input"
            if [ -x "$0\(chainedSuffix)" ]; then "$0\(chainedSuffix)" "$@" < "$input"; status=$?; fi
            "$runner" hook run \(event) --hook "$0" "$@" < "$input"
            rm -f "$input"
            exit $status

            """
        } else {
            out += """
            if [ -x "$0\(chainedSuffix)" ]; then "$0\(chainedSuffix)" "$@"; status=$?; fi
            "$runner" hook run \(event) --hook "$0" "$@" < /dev/null
            exit $status

            """
        }
        return out
    }

    /// This binary, absolute: what the installed hook calls.
    static var runnerPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    static func write(_ text: String, to path: String) throws {
        let temporary = path + ".runner-tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0o755)
        guard rename(temporary, path) == 0 else { throw HookError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    struct HookError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func absolute(_ path: String, _ context: RunnerCLI.Context) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: context.currentDirectory)).standardizedFileURL.path
    }

    static func hooksDirectory(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> Result<String, Diagnostic> {
        let path = absolute(arguments.value("repo") ?? ".", context)
        do {
            return .success(try GitRepository(path: path).hooksDirectory)
        } catch {
            return .failure(Diagnostic(.usage, "\(error)", hint: "give the repository with --repo PATH"))
        }
    }

    static func fail(_ d: Diagnostic, _ context: RunnerCLI.Context, _ code: ExitCode) -> ExitCode {
        context.console.err(DiagnosticRenderer(colors: context.console.colorsError).render(d))
        return code
    }

    // MARK: - install

    static func install(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        var server: (url: String, tokenFile: String)?
        switch APIClient.from(arguments, context) {
        case .failure(let f)?: return fail(Diagnostic(.usage, f.description), context, .usage)
        case .success?:
            server = (arguments.value("server")!, absolute(arguments.value("token-file")!, context))
        case nil: break
        }
        let hooks: String
        switch hooksDirectory(arguments, context) {
        case .failure(let d): return fail(d, context, .usage)
        case .success(let h): hooks = h
        }
        let state = StateDirectory.resolve(environment: context.environment, currentDirectory: context.currentDirectory).root.path
        var wanted: [(event: String, entry: Entry)] = []
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        if let directory = arguments.value("from-pipelines") {
            guard arguments.value("pipeline") == nil, arguments.values("ref").isEmpty, arguments.value("param-for-ref") == nil,
                  arguments.values("event").isEmpty else {
                return fail(Diagnostic(.usage, "--from-pipelines takes the events, refs and param from each pipeline's triggers.git",
                                       hint: "use --pipeline FILE to give them yourself"), context, .usage)
            }
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: absolute(directory, context))) ?? [])
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            for name in files {
                let file = absolute(directory, context) + "/" + name
                let loaded = PipelineLoader.load(path: file)
                guard let pipeline = loaded.pipeline else {
                    context.console.err("runner: skipping \(file): it does not load (run `runner validate \(file)`)\n")
                    continue
                }
                guard let git = pipeline.pipeline.triggers.git else { continue }
                for event in git.events {
                    wanted.append((event.rawValue, Entry(pipeline: file, refs: nil, param: nil, state: state)))
                }
            }
            if wanted.isEmpty {
                return fail(Diagnostic(.usage, "no pipeline in \(directory) declares triggers.git", hint: "e.g. git: {events: [post-receive], refs: [refs/heads/main], param: targetRef}"),
                            context, .usage)
            }
        } else {
            guard let file = arguments.value("pipeline") else {
                return fail(Diagnostic(.usage, "which pipeline? give --pipeline FILE or --from-pipelines DIR"), context, .usage)
            }
            let path = absolute(file, context)
            if let server, !FileManager.default.fileExists(atPath: path) {
                // A pipeline the server knows by name: refs and param must be given here.
                let refs = arguments.values("ref")
                guard !refs.isEmpty, let param = arguments.value("param-for-ref") else {
                    return fail(Diagnostic(.usage, "'\(file)' is not a file: as a pipeline name on the server it needs --ref GLOB and --param-for-ref NAME"),
                                context, .usage)
                }
                for event in arguments.values("event").isEmpty ? ["post-receive"] : arguments.values("event") {
                    guard Self.events.contains(event) else {
                        return fail(Diagnostic(.usage, "unknown git event '\(event)'", hint: "one of \(Self.events.joined(separator: ", "))"), context, .usage)
                    }
                    wanted.append((event, Entry(pipeline: file, refs: refs, param: param, state: state, server: server.url,
                                                tokenFile: server.tokenFile, name: file)))
                }
                return write(wanted, hooks: hooks, context: context)
            }
            let loaded = PipelineLoader.load(path: path)
            guard let pipeline = loaded.pipeline else {
                loaded.diagnostics.forEach { context.console.err(renderer.render($0)) }
                return .invalid
            }
            let git = pipeline.pipeline.triggers.git
            let refs = arguments.values("ref")
            if refs.isEmpty && (git?.refs.isEmpty ?? true) {
                return fail(Diagnostic(.usage, "which refs launch a run? the pipeline declares no triggers.git.refs",
                                       hint: "give --ref GLOB, e.g. --ref refs/heads/main"), context, .usage)
            }
            for ref in refs where !ref.hasPrefix("refs/") && ref != "HEAD" {
                return fail(Diagnostic(.usage, "--ref '\(ref)' must be a full ref name or glob",
                                       hint: "e.g. refs/heads/\(ref) or refs/tags/\(ref)"), context, .usage)
            }
            let param = arguments.value("param-for-ref") ?? git?.param?.value
            guard let param, let spec = pipeline.pipeline.params.first(where: { $0.name.value == param }),
                  case .gitref = spec.kind else {
                let gitrefs = pipeline.pipeline.params.filter { if case .gitref = $0.kind { true } else { false } }.map(\.name.value)
                return fail(Diagnostic(.usage, param.map { "'\($0)' is not a gitref param of \(pipeline.pipeline.name.value)" }
                                       ?? "which param gets the new commit? the pipeline declares no triggers.git.param",
                                       hint: gitrefs.isEmpty ? "declare a param of type gitref" : "give --param-for-ref \(gitrefs[0])"),
                            context, .usage)
            }
            // Default: what the pipeline declares, else post-receive (a push to this repository).
            var events = arguments.values("event").isEmpty ? (git?.events.map(\.rawValue) ?? []) : arguments.values("event")
            if events.isEmpty { events = ["post-receive"] }
            for event in events {
                guard Self.events.contains(event) else {
                    return fail(Diagnostic(.usage, "unknown git event '\(event)'", hint: "one of \(Self.events.joined(separator: ", "))"), context, .usage)
                }
                // What the pipeline declares stays in the pipeline: read when the hook fires.
                wanted.append((event, Entry(pipeline: path, refs: refs.isEmpty ? nil : refs,
                                            param: arguments.value("param-for-ref") == nil ? nil : param, state: state,
                                            server: server?.url, tokenFile: server?.tokenFile)))
            }
        }
        return write(wanted, hooks: hooks, context: context)
    }

    static func write(_ wanted: [(event: String, entry: Entry)], hooks: String, context: RunnerCLI.Context) -> ExitCode {
        do {
            try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
            for event in Set(wanted.map(\.event)).sorted() {
                let hook = hooks + "/" + event
                var entries: [Entry] = []
                if let text = try? String(contentsOfFile: hook, encoding: .utf8) {
                    if let existing = Self.entries(inHook: text) {
                        entries = existing
                    } else {
                        guard !FileManager.default.fileExists(atPath: hook + chainedSuffix) else {
                            throw HookError("\(hook) is not runner's and \(hook + chainedSuffix) exists too; move one of them away")
                        }
                        try FileManager.default.moveItem(atPath: hook, toPath: hook + chainedSuffix)
                        context.console.err("kept the existing \(event) hook: it runs first, as \(event + chainedSuffix)\n")
                    }
                }
                for (_, entry) in wanted.filter({ $0.event == event }) {
                    entries.removeAll { $0.pipeline == entry.pipeline }
                    entries.append(entry)
                }
                try write(script(event: event, runner: runnerPath, entries: entries), to: hook)
                for (_, entry) in wanted.filter({ $0.event == event }) {
                    context.console.out("installed \(event) → \(entry.pipeline)"
                                        + (entry.refs.map { " on \($0.joined(separator: ", "))" } ?? " (refs and param from its triggers.git)")
                                        + (entry.server.map { " · launched through \($0)" } ?? " · runs recorded in \(entry.state)") + "\n")
                }
            }
        } catch {
            return fail(Diagnostic(.internalError, "\(error)"), context, .internalError)
        }
        return .success
    }

    // MARK: - uninstall, list

    static func uninstall(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let hooks: String
        switch hooksDirectory(arguments, context) {
        case .failure(let d): return fail(d, context, .usage)
        case .success(let h): hooks = h
        }
        let only = arguments.value("pipeline").map { absolute($0, context) }
        var removed = 0
        do {
            for event in arguments.values("event").isEmpty ? events : arguments.values("event") {
                let hook = hooks + "/" + event
                guard let text = try? String(contentsOfFile: hook, encoding: .utf8), let entries = entries(inHook: text) else { continue }
                let kept = entries.filter { entry in only.map { entry.pipeline != $0 } ?? false }
                removed += entries.count - kept.count
                if kept.isEmpty {
                    try FileManager.default.removeItem(atPath: hook)
                    if FileManager.default.fileExists(atPath: hook + chainedSuffix) {
                        try FileManager.default.moveItem(atPath: hook + chainedSuffix, toPath: hook)
                        context.console.out("restored the earlier \(event) hook\n")
                    }
                } else if kept.count != entries.count {
                    try write(script(event: event, runner: runnerPath, entries: kept), to: hook)
                }
            }
        } catch {
            return fail(Diagnostic(.internalError, "\(error)"), context, .internalError)
        }
        context.console.out("removed \(removed) registration\(removed == 1 ? "" : "s")\n")
        return .success
    }

    static func list(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let hooks: String
        switch hooksDirectory(arguments, context) {
        case .failure(let d): return fail(d, context, .usage)
        case .success(let h): hooks = h
        }
        struct Listed: Encodable { var event: String; var hook: String; var chained: Bool; var entries: [Entry] }
        var listed: [Listed] = []
        for event in events {
            let hook = hooks + "/" + event
            guard let text = try? String(contentsOfFile: hook, encoding: .utf8), let entries = entries(inHook: text) else { continue }
            listed.append(Listed(event: event, hook: hook, chained: FileManager.default.fileExists(atPath: hook + chainedSuffix), entries: entries))
        }
        if arguments.has("json") {
            context.console.out(JSONOutput.encode(listed))
            return .success
        }
        if listed.isEmpty { context.console.out("no runner hooks in \(hooks)\n") }
        for l in listed {
            context.console.out("\(l.event)  \(l.hook)\(l.chained ? " (runs \(l.event + chainedSuffix) first)" : "")\n")
            for e in l.entries {
                context.console.out("  \(e.pipeline)  refs: \(e.refs?.joined(separator: ", ") ?? "from triggers.git")"
                                    + "  param: \(e.param ?? "from triggers.git")  state: \(e.state)\n")
            }
        }
        return .success
    }

    // MARK: - run (what git calls)

    struct Update {
        var old: String
        var new: String
        var ref: String
        var isDeletion: Bool { new.allSatisfy { $0 == "0" } }
    }

    static func updates(event: String, hookArguments: [String], context: RunnerCLI.Context) -> [Update] {
        switch event {
        case "post-receive", "reference-transaction":
            if event == "reference-transaction" && hookArguments.first != "committed" { return [] }
            var lines: [Update] = []
            while let line = readLine(strippingNewline: true) {
                let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
                guard parts.count == 3 else { continue }
                lines.append(Update(old: parts[0], new: parts[1], ref: parts[2]))
            }
            return lines
        default:
            // post-commit, post-merge: HEAD moved (a detached HEAD is 'HEAD').
            guard let head = (try? GitRepository(path: "."))?.head() else { return [] }
            return [Update(old: "", new: head.sha, ref: head.ref ?? "HEAD")]
        }
    }

    /// Who caused the event, as the hosting tools name them.
    static func pusher(_ environment: [String: String]) -> String? {
        ["GL_USERNAME", "GL_USER", "GITEA_PUSHER_NAME", "REMOTE_USER", "USER", "LOGNAME"].lazy.compactMap { environment[$0] }
            .first { !$0.isEmpty }
    }

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let event = arguments.positionals[0]
        guard events.contains(event) else {
            return fail(Diagnostic(.usage, "unknown git event '\(event)'", hint: "one of \(events.joined(separator: ", "))"), context, .usage)
        }
        guard let hook = arguments.value("hook"), let text = try? String(contentsOfFile: hook, encoding: .utf8),
              let entries = entries(inHook: text) else {
            return fail(Diagnostic(.usage, "--hook must name a hook installed by `runner hook install`"), context, .usage)
        }
        let updates = updates(event: event, hookArguments: Array(arguments.positionals.dropFirst()), context: context)
        let repository = (try? GitRepository(path: "."))?.path ?? context.currentDirectory
        let pusher = pusher(context.environment)
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

    /// Admits one run for a ref update (the pipeline's concurrency rule answers at once; a
    /// queued run waits in the detached runner) and hands it to a detached runner.
    static func launch(_ entry: Entry, pipeline: ValidatedPipeline, update: Update, event: String, repository: String, pusher: String?,
                       context: RunnerCLI.Context) -> ExitCode {
        let name = pipeline.pipeline.name.value
        let console = context.console
        let short = String(update.new.prefix(12))
        switch admit(entry, pipeline: pipeline, update: update, event: event, repository: repository, pusher: pusher, context: context) {
        case .failure(let failed): return failed.code
        case .success(.created(let id)):
            return detach(["hook", "launch", "--run", id.rawValue], state: entry.state, context: context,
                          note: "runner: \(name): run \(id) launched for \(update.ref) at \(short)")
        case .success(.rejected(let active, let code)):
            console.err("runner: \(name): not launched for \(update.ref) at \(short): run \(active.id) is \(active.status.rawValue) (\(code))\n")
            appendLog(entry.state, "rejected \(name) \(update.ref) \(update.new): run \(active.id) is \(active.status.rawValue) (\(code))")
            return .conflict
        case .success(.skipped(let id, let active)):
            console.err("runner: \(name): run \(id) skipped: run \(active.id) is \(active.status.rawValue) (on_conflict: skip)\n")
            return .success
        }
    }

    /// A registration with `--server`: each matching update is a launch through the API with
    /// `trigger: hook` and the update's details. The server resolves the SHA in its pipeline's
    /// repository, which must have the pushed commit.
    static func launchRemote(_ entry: Entry, server: String, updates: [Update], event: String, repository: String, pusher: String?,
                             context: RunnerCLI.Context) -> ExitCode {
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

    static func admit(_ entry: Entry, pipeline: ValidatedPipeline, update: Update, event: String, repository: String, pusher: String?,
                      context: RunnerCLI.Context) -> Result<RunService.Admission, Failed> {
        let name = pipeline.pipeline.name.value
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        guard let param = entry.param ?? pipeline.pipeline.triggers.git?.param?.value else {
            context.console.err("runner: \(name): no param takes the commit (set triggers.git.param or install with --param-for-ref)\n")
            return .failure(Failed(code: .invalid))
        }
        let checked: LaunchCheck.Checked
        switch LaunchCheck.check([(name: param, input: .text(update.new))], for: pipeline, pipelineFile: entry.pipeline,
                                 repositories: [param: repository]) {
        case .success(let c): checked = c
        case .failure(let failure):
            let problems = failure.diagnostics
            problems.forEach { context.console.err(renderer.render($0)) }
            appendLog(entry.state, "not launched \(name) \(update.ref) \(update.new): " + problems.map(\.message).joined(separator: "; "))
            return .failure(Failed(code: .invalid))
        }
        var detail = ["event": event, "ref": update.ref, "new": update.new, "repository": repository]
        if !update.old.isEmpty { detail["old"] = update.old }
        if let pusher { detail["pusher"] = pusher }
        let environment = context.environment.merging(["RUNNER_HOME": entry.state]) { $1 }
        let definition = (try? String(contentsOfFile: entry.pipeline, encoding: .utf8)) ?? ""
        let triggerDetail = detail
        let outcome: Result<RunService.Admission, any Error> = blockingAwait {
            do {
                let service = try RunService(state: StateDirectory(root: URL(fileURLWithPath: entry.state)), environment: environment)
                return .success(try await service.admit(pipeline: pipeline, definition: definition, file: entry.pipeline,
                                                        params: checked.params, trigger: .hook,
                                                        parallelism: ProcessInfo.processInfo.activeProcessorCount,
                                                        refs: checked.refs, triggerDetail: triggerDetail))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let admission): return .success(admission)
        case .failure(let error):
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
            service = try RunService(state: state, environment: context.environment)
        } catch {
            let (diagnostic, exit) = RunsCommand.openFailure(error)
            return fail(diagnostic, context, exit)
        }
        return Execution(service: service, context: context, json: false).run(RunID(id), header: "run \(id) (hook)")
    }
}
