#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore
import RunnerEngine

/// Exit codes of DESIGN.md, shared by every command.
public enum ExitCode: Int32, Sendable {
    case success = 0
    case runFailed = 1
    case invalid = 2
    case conflict = 3
    case usage = 64
    case internalError = 70
    /// The run stopped because the state store could not record for too long
    /// (EX_TEMPFAIL): `runner runs resume` continues it once the store is back.
    case storeUnavailable = 75
}

/// A command's helpers stop it by throwing the code it exits with (what it says is printed
/// by then).
extension ExitCode: Error {}

/// The `runner` command line: parse, dispatch, render. `main.swift` only calls `run`.
public enum RunnerCLI {
    public static let version = "0.1.0"

    struct Command: Sendable {
        var spec: CommandSpec
        var run: @Sendable (ParsedArguments, Context) -> ExitCode
        /// `runner runs list`: a command made of subcommands.
        var subcommands: [Command] = []
    }

    struct Context {
        var console: Console
        var environment: [String: String]
        var currentDirectory: String
        /// `apply`'s run state, being opened since the command started.
        var stateOpening: StateOpening? = nil
    }

    static let commands: [Command] = [
        Command(spec: ValidateCommand.spec, run: ValidateCommand.run),
        Command(spec: PlanCommand.spec, run: PlanCommand.run),
        Command(spec: GraphCommand.spec, run: GraphCommand.run),
        Command(spec: ApplyCommand.spec, run: ApplyCommand.run),
        Command(spec: RunsCommand.spec, run: { _, _ in .usage }, subcommands: RunsCommand.subcommands),
        Command(spec: HookCommand.spec, run: { _, _ in .usage }, subcommands: HookCommand.subcommands),
        Command(spec: GCCommand.spec, run: GCCommand.run),
        Command(spec: ServeCommand.spec, run: ServeCommand.run),
        Command(spec: OpenAPICommand.spec, run: OpenAPICommand.run),
        Command(spec: TokenCommand.spec, run: { _, _ in .usage }, subcommands: TokenCommand.subcommands),
        Command(spec: AuditCommand.spec, run: AuditCommand.run),
        Command(spec: TriggerCommand.spec, run: TriggerCommand.run),
    ]

    /// `environment` and `currentDirectory`: the process's own when not given.
    public static func run(_ arguments: [String], console: Console = .standard(),
                           environment: [String: String]? = nil, currentDirectory: String? = nil) -> Int32 {
        let directory = currentDirectory ?? FileManager.default.currentDirectoryPath
        // `apply` opens its run state from the very start, on another thread (StateOpening).
        let home = environment.map { $0["RUNNER_HOME"] } ?? getenv("RUNNER_HOME").map { String(cString: $0) }
        let opening = StateOpening.start(for: arguments, state: StateDirectory.resolve(home: home, currentDirectory: directory))
        // Whatever the command did, an opening is over before the process exits: cut off in
        // the middle of making a new database, it would leave that to the next start.
        defer { opening?.settle() }
        let context = Context(console: console, environment: environment ?? ProcessInfo.processInfo.environment,
                              currentDirectory: directory, stateOpening: opening)
        return dispatch(arguments, context).rawValue
    }

    static func dispatch(_ arguments: [String], _ context: Context) -> ExitCode {
        guard let first = arguments.first else {
            context.console.err(overview())
            return .usage
        }
        switch first {
        case "--version", "-V", "version":
            context.console.out("runner \(version) (pipeline format version 1)\n")
            return .success
        case "--help", "-h":
            context.console.out(overview())
            return .success
        case "help":
            guard arguments.count > 1 else {
                context.console.out(overview())
                return .success
            }
            guard let command = commands.first(where: { $0.spec.name == arguments[1] }) else {
                return usageError(UsageError(message: "no help for unknown command '\(arguments[1])'", hint: suggestion(for: arguments[1])), context)
            }
            if !command.subcommands.isEmpty {
                if arguments.count > 2, let sub = command.subcommands.first(where: { $0.spec.name == arguments[2] }) {
                    context.console.out(ArgumentParser.help(for: sub.spec))
                } else {
                    context.console.out(subcommandHelp(command, path: command.spec.name))
                }
                return .success
            }
            context.console.out(ArgumentParser.help(for: command.spec))
            return .success
        default:
            break
        }
        guard let command = commands.first(where: { $0.spec.name == first }) else {
            let message = first.hasPrefix("-") ? "unknown option '\(first)'" : "unknown command '\(first)'"
            return usageError(UsageError(message: message, hint: suggestion(for: first)), context)
        }
        return dispatch(command, Array(arguments.dropFirst()), context, path: first)
    }

    static func dispatch(_ command: Command, _ arguments: [String], _ context: Context, path: String) -> ExitCode {
        if !command.subcommands.isEmpty {
            guard let name = arguments.first, !name.hasPrefix("-") else {
                if arguments.first == "--help" || arguments.first == "-h" {
                    context.console.out(subcommandHelp(command, path: path))
                    return .success
                }
                context.console.err(subcommandHelp(command, path: path))
                return .usage
            }
            guard let sub = command.subcommands.first(where: { $0.spec.name == name }) else {
                let names = command.subcommands.map(\.spec.name)
                return usageError(UsageError(message: "unknown command '\(path) \(name)'",
                                             hint: Suggestion.hint(for: name, in: names) ?? "commands: " + names.joined(separator: ", ")),
                                  context)
            }
            return dispatch(sub, Array(arguments.dropFirst()), context, path: "\(path) \(name)")
        }
        switch ArgumentParser.parse(arguments, for: command.spec) {
        case .failure(let error):
            return usageError(error, context)
        case .success(let parsed):
            if parsed.has("help") {
                context.console.out(ArgumentParser.help(for: command.spec))
                return .success
            }
            return command.run(parsed, context)
        }
    }

    static func suggestion(for word: String) -> String {
        let names = commands.map(\.spec.name) + ["help", "version"]
        return Suggestion.closest(to: String(word.drop { $0 == "-" }.reversed().drop { $0 == "-" }.reversed()), in: names)
            .map { "did you mean '\($0)'?" } ?? "commands: " + commands.map(\.spec.name).joined(separator: ", ") + " (see 'runner help')"
    }

    static func usageError(_ error: UsageError, _ context: Context) -> ExitCode {
        let d = Diagnostic(.usage, error.message, hint: error.hint)
        context.console.err(DiagnosticRenderer(colors: context.console.colorsError).render(d))
        return .usage
    }

    static func subcommandHelp(_ command: Command, path: String) -> String {
        var out = "\(command.spec.summary)\n\nUSAGE: runner \(path) <command> [options]\n\nCOMMANDS:\n"
        let width = command.subcommands.map(\.spec.name.count).max() ?? 0
        for sub in command.subcommands {
            out += "  \(sub.spec.name)\(String(repeating: " ", count: width - sub.spec.name.count + 2))\(sub.spec.summary)\n"
        }
        return out + "\nRun 'runner \(path) <command> --help' for a command's options.\n"
    }

    static func overview() -> String {
        var out = """
        runner \(version): a declarative pipeline runner

        USAGE: runner <command> [options]

        COMMANDS:

        """
        let width = commands.map(\.spec.name.count).max() ?? 0
        for c in commands {
            out += "  \(c.spec.name)\(String(repeating: " ", count: width - c.spec.name.count + 2))\(c.spec.summary)\n"
        }
        out += """

        Run 'runner help <command>' or 'runner <command> --help' for a command's options.
        Exit codes: 0 ok, 1 run failed, 2 invalid pipeline or params, 3 conflict, 64 usage, 70 internal error.

        """
        return out
    }
}
