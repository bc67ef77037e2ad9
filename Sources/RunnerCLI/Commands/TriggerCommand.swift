#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// `runner trigger NAME --server URL --token-file F`: launch a named pipeline through the API.
enum TriggerCommand {
    static let spec = CommandSpec(
        name: "trigger", summary: "Launch a named pipeline on a runner server (the API), optionally waiting for it",
        usage: "runner trigger NAME [-p NAME=VALUE]... [--params FILE.json] --server URL --token-file F [--idempotency-key KEY] [--wait] [--json]",
        options: [ParamInputs.param,
                  .init(long: "params", short: nil, valueName: "FILE.json", help: "params as one JSON object; -p wins"),
                  .init(long: "idempotency-key", short: nil, valueName: "KEY", help: "send Idempotency-Key: resending with it never launches twice"),
                  .init(long: "wait", short: nil, valueName: nil, help: "wait for the run to finish; exit as `apply` would"),
                  .init(long: "json", short: nil, valueName: nil, help: "print the server's JSON")] + APIClient.options,
        positionalName: "a pipeline NAME", positionals: 1...1,
        discussion: "Param values given as text are typed with the pipeline's declaration, fetched from the server.")

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let client: APIClient
        switch APIClient.from(arguments, context) {
        case nil:
            return RunnerCLI.usageError(UsageError(message: "runner trigger launches through a server: give --server URL --token-file F",
                                                   hint: "to run a pipeline file here, use `runner apply FILE`"), context)
        case .failure(let f)?: return RunnerCLI.usageError(UsageError(message: f.description, hint: nil), context)
        case .success(let c)?: client = c
        }
        let name = arguments.positionals[0]
        let inputs: [(name: String, input: ParamInput)]
        do { inputs = try ParamInputs.collect(arguments, context) } catch { return error }
        let escaped = URLText.escaped(name)
        // The declaration types the text values (-p count=3 is the number 3 for an int param).
        var types: [String: String] = [:]
        switch client.send("GET", "/api/v1/pipelines/\(escaped)") {
        case .failure(let f): return fail(f, context)
        case .success(let reply):
            guard reply.status == 200 else {
                APIClient.render(reply, context)
                return APIClient.exitCode(reply.status)
            }
            for param in reply.json?["params"]?.array ?? [] {
                if let n = param["name"]?.string, let t = param["type"]?.string { types[n] = t }
            }
        }
        var params: [String: JSONValue] = [:]
        for (key, input) in inputs {
            switch input {
            case .value(let v): params[key] = v.json
            case .text(let text): params[key] = typed(text, as: types[key])
            }
        }
        var headers: [String: String] = [:]
        if let key = arguments.value("idempotency-key") { headers["Idempotency-Key"] = key }
        switch client.send("POST", "/api/v1/pipelines/\(escaped)/runs", body: .object(["params": .object(params)]), headers: headers) {
        case .failure(let f): return fail(f, context)
        case .success(let reply):
            guard (200..<300).contains(reply.status), let object = reply.json, let id = object["run_id"]?.string else {
                APIClient.render(reply, context)
                if let active = reply.json?["run_id"]?.string {
                    context.console.err("  follow it with `runner runs show \(active) --server \(client.base.absoluteString) --token-file …`\n")
                }
                return APIClient.exitCode(reply.status)
            }
            if !arguments.has("wait") {
                if arguments.has("json") { context.console.out(reply.text) } else {
                    context.console.out("run \(id) of \(name) \(object["status"]?.string ?? "queued")\n")
                }
                return .success
            }
            return wait(for: id, client, json: arguments.has("json"), context)
        }
    }

    static func wait(for id: String, _ client: APIClient, json: Bool, _ context: RunnerCLI.Context) -> ExitCode {
        while true {
            switch client.send("GET", "/api/v1/runs/\(id)") {
            case .failure(let f): return fail(f, context)
            case .success(let reply):
                guard reply.status == 200, let run = reply.json, let status = run["status"]?.string.flatMap(RunStatus.init(rawValue:)) else {
                    APIClient.render(reply, context)
                    return APIClient.exitCode(reply.status)
                }
                if status.isTerminal {
                    if json { context.console.out(reply.text) } else {
                        context.console.out("run \(id) \(status.rawValue)" + (run["error_code"]?.string.map { " (\($0))" } ?? "") + "\n")
                    }
                    return RunSummary.exitCode(status)
                }
            }
            usleep(300_000)
        }
    }

    static func fail(_ failure: APIClient.Failure, _ context: RunnerCLI.Context) -> ExitCode {
        context.console.err(DiagnosticRenderer(colors: context.console.colorsError).render(Diagnostic(.stateUnavailable, failure.description)))
        return .internalError
    }

    /// Text as the declared type would read it; what does not read stays text, and the server
    /// answers with the param's own error code.
    static func typed(_ text: String, as type: String?) -> JSONValue {
        switch type {
        case "int": if let i = Int(text) { return .int(i) } else { return .string(text) }
        case "number": if let d = Double(text) { return .number(d) } else { return .string(text) }
        case "bool": if text == "true" || text == "false" { return .bool(text == "true") } else { return .string(text) }
        case let t? where t.hasPrefix("list"):
            if text.hasPrefix("["), case .array(let items)? = JSONValue.parse(text.utf8) { return .array(items) }
            return .array(text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) })
        default: return .string(text)
        }
    }
}
