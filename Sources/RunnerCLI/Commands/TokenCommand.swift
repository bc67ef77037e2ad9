import FoundationEssentials
import RunnerCore
import RunnerJSON
import RunnerServer

/// `runner token create|list|revoke` and `runner audit`: API access, kept in the state database.
enum TokenCommand {
    static let spec = CommandSpec(name: "token", summary: "Create, list and revoke API tokens",
                                  usage: "runner token <create|list|revoke> ...", options: [], positionalName: "a command",
                                  positionals: 0...0)

    static let subcommands: [RunnerCLI.Command] = [
        .init(spec: CommandSpec(
            name: "create", summary: "Create a token; it is printed once and only its SHA-256 is kept",
            usage: "runner token create --role viewer|operator|admin --name NAME",
            options: [.init(long: "role", short: nil, valueName: "ROLE", help: "viewer (reads), operator (also launch, cancel), admin (also audit)"),
                      .init(long: "name", short: nil, valueName: "NAME", help: "who or what uses it; recorded in the audit log")],
            positionalName: "nothing", positionals: 0...0), run: create),
        .init(spec: CommandSpec(name: "list", summary: "List tokens (names, roles, dates; never the tokens)", usage: "runner token list [--json]",
                                options: [RunsCommand.json], positionalName: "nothing", positionals: 0...0), run: list),
        .init(spec: CommandSpec(name: "revoke", summary: "Revoke a token by name", usage: "runner token revoke NAME",
                                options: [], positionalName: "a token NAME", positionals: 1...1), run: revoke),
    ]

    static func create(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        guard let roleText = arguments.value("role"), let role = Role(rawValue: roleText) else {
            return RunnerCLI.usageError(UsageError(message: "--role takes viewer, operator or admin", hint: "e.g. --role operator"), context)
        }
        guard let name = arguments.value("name"), !name.isEmpty, name.count <= 64,
              name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return RunnerCLI.usageError(UsageError(message: "--name takes 1 to 64 printable characters without spaces", hint: "e.g. --name ci-deployer"), context)
        }
        switch RunsCommand.service(context) {
        case .failure(let d): return RunsCommand.fail(d, context, RunsCommand.exitCode(opening: d))
        case .success(let service):
            guard let made = AccessTokens.make(name: name, role: role) else {
                return RunsCommand.fail(Diagnostic(.internalError, "no random bytes from libcrypto"), context, .internalError)
            }
            do {
                try service.store.createToken(made.record)
            } catch {
                return RunsCommand.fail(Diagnostic(.usage, "\(error)", hint: "choose another name, or revoke the old one first"), context, .invalid)
            }
            LocalAudit.record("token_create", params: ["name": .string(name), "role": .string(role.rawValue)], in: service)
            context.console.err("token '\(name)' (\(role.rawValue)) created; it is shown once, keep it secret:\n")
            context.console.out(made.token + "\n")
            return .success
        }
    }

    static func list(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        switch RunsCommand.service(context) {
        case .failure(let d): return RunsCommand.fail(d, context, RunsCommand.exitCode(opening: d))
        case .success(let service):
            let tokens = (try? service.store.tokens()) ?? []
            struct Listed: Encodable { var name: String; var role: String; var created_at: String; var revoked_at: String? }
            let listed = tokens.map { Listed(name: $0.name, role: $0.role.rawValue, created_at: Timestamp.format($0.createdAt),
                                             revoked_at: $0.revokedAt.map(Timestamp.format)) }
            if arguments.has("json") {
                context.console.out(JSONOutput.encode(listed))
            } else {
                if listed.isEmpty { context.console.out("no tokens; create one with `runner token create --role operator --name NAME`\n") }
                for t in listed { context.console.out("\(t.name)  \(t.role)  created \(t.created_at)\(t.revoked_at.map { "  revoked \($0)" } ?? "")\n") }
            }
            return .success
        }
    }

    static func revoke(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        switch RunsCommand.service(context) {
        case .failure(let d): return RunsCommand.fail(d, context, RunsCommand.exitCode(opening: d))
        case .success(let service):
            let name = arguments.positionals[0]
            guard (try? service.store.revokeToken(name: name, at: Date())) == true else {
                return RunsCommand.fail(Diagnostic(.usage, "no active token named '\(name)'", hint: "see `runner token list`"), context)
            }
            LocalAudit.record("token_revoke", params: ["name": .string(name)], in: service)
            context.console.out("revoked token '\(name)'\n")
            return .success
        }
    }
}

enum AuditCommand {
    static let spec = CommandSpec(name: "audit", summary: "Show the audit log: who launched or cancelled which run, from which request",
                                  usage: "runner audit [--limit N] [--json]",
                                  options: [.init(long: "limit", short: "n", valueName: "N", help: "the newest N entries (default 50)"), RunsCommand.json],
                                  positionalName: "nothing", positionals: 0...0)

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let limit = arguments.value("limit").flatMap(Int.init) ?? 50
        switch RunsCommand.service(context) {
        case .failure(let d): return RunsCommand.fail(d, context, RunsCommand.exitCode(opening: d))
        case .success(let service):
            let entries = (try? service.store.audit(limit: limit)) ?? []
            if arguments.has("json") {
                context.console.out(JSONOutput.encode(entries.map(AuditJSON.init)))
                return .success
            }
            for e in entries {
                context.console.out("\(Timestamp.format(e.at))  \(e.action)\(e.code.map { " (\($0))" } ?? "")  \(e.runID?.rawValue ?? "-")  \(e.pipeline ?? "-")  by \(e.actor)"
                                    + (e.traceID.map { "  trace \($0)" } ?? "") + "\n")
            }
            return .success
        }
    }
}
