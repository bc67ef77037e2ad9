import FoundationEssentials
import RunnerCore

/// `runner runs … --server URL --token-file F`: the same questions, asked of a runner server.
extension RunsCommand {
    /// Nil: no `--server`, answer locally.
    static func remote(_ subcommand: String, _ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode? {
        guard let result = APIClient.from(arguments, context) else { return nil }
        let client: APIClient
        switch result {
        case .failure(let f): return RunnerCLI.usageError(UsageError(message: f.description, hint: nil), context)
        case .success(let c): client = c
        }
        let request: RemoteRequest
        switch remoteRequest(subcommand, arguments) {
        case .failure(let error): return RunnerCLI.usageError(error, context)
        case .success(let r): request = r
        }
        switch client.send(request.method, request.path, body: request.body) {
        case .failure(let f): return TriggerCommand.fail(f, context)
        case .success(let reply):
            guard (200..<300).contains(reply.status) else {
                APIClient.render(reply, context)
                return APIClient.exitCode(reply.status)
            }
            if subcommand == "logs" || arguments.has("json") {
                context.console.out(reply.text)
                return .success
            }
            render(subcommand, reply.json ?? .null, arguments, context)
            return .success
        }
    }

    typealias RemoteRequest = (method: String, path: String, body: JSONValue?)

    /// The API request a `runs` subcommand is, with `--server`.
    private static func remoteRequest(_ subcommand: String, _ arguments: ParsedArguments) -> Result<RemoteRequest, UsageError> {
        func escaped(_ s: String) -> String { URLText.escaped(s) }
        switch subcommand {
        case "list":
            var query = ["limit=\(arguments.value("limit") ?? "20")"]
            if let p = arguments.value("pipeline") { query.append("pipeline=\(escaped(p))") }
            if !arguments.values("status").isEmpty {
                query.append("status=\(arguments.values("status").map(escaped).joined(separator: ","))")
            }
            return .success(("GET", "/api/v1/runs?" + query.joined(separator: "&"), nil))
        case "show": return .success(("GET", "/api/v1/runs/\(escaped(arguments.positionals[0]))", nil))
        case "cancel": return .success(("POST", "/api/v1/runs/\(escaped(arguments.positionals[0]))/cancel", nil))
        case "logs":
            guard arguments.positionals.count == 2 else {
                return .failure(UsageError(message: "with --server, name the STEP: runner runs logs ID STEP", hint: nil))
            }
            let attempt = arguments.value("attempt").map { "?attempt=\(escaped($0))" } ?? ""
            let run = escaped(arguments.positionals[0]), step = escaped(arguments.positionals[1])
            return .success(("GET", "/api/v1/runs/\(run)/steps/\(step)/log\(attempt)", nil))
        case "resume":
            guard let step = arguments.value("from") else {
                return .failure(UsageError(message: "with --server, resume takes --from STEP (a new run from that step)",
                                           hint: "a server finishes its own interrupted runs when it starts"))
            }
            return .success(("POST", "/api/v1/runs/\(escaped(arguments.positionals[0]))/retry", .object(["from": .string(step)])))
        default:
            return .failure(UsageError(message: "runs \(subcommand) does not take --server", hint: nil))
        }
    }

    /// A server's answer, as the local command prints it.
    private static func render(_ subcommand: String, _ object: JSONValue, _ arguments: ParsedArguments, _ context: RunnerCLI.Context) {
        let out = context.console
        switch subcommand {
        case "list":
            for run in object["runs"]?.array ?? [] {
                out.out("\(run["id"]?.string ?? "?")  \(run["pipeline"]?.string ?? "?")  \(run["status"]?.string ?? "?")  "
                        + "\(run["trigger"]?.string ?? "")\n")
            }
        case "show":
            out.out("run \(object["id"]?.string ?? "?")  \(object["pipeline"]?.string ?? "?")  \(object["status"]?.string ?? "?")"
                    + (object["error_code"]?.string.map { "  error: \($0)" } ?? "") + "\n")
            for step in object["steps"]?.array ?? [] {
                out.out("  \(step["name"]?.string ?? "?")  \(step["status"]?.string ?? "?")"
                        + (step["error_code"]?.string.map { "  \($0)" } ?? "") + "\n")
            }
        case "cancel": out.out("cancel requested for run \(arguments.positionals[0])\n")
        default:
            out.out("run \(object["run_id"]?.string ?? "?") re-runs \(object["retry_of"]?.string ?? "?") "
                    + "from \(object["from"]?.string ?? "?")\n")
        }
    }
}
