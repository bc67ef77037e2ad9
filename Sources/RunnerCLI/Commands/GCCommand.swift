import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerJSON

/// `runner gc`: removes finished runs past their retention, with their logs and workspaces.
enum GCCommand {
    static let spec = CommandSpec(
        name: "gc", summary: "Remove finished runs past their retention, with their logs and workspaces",
        usage: "runner gc [--older-than DURATION] [--dry-run] [--json]",
        options: [.init(long: "older-than", short: nil, valueName: "DURATION",
                        help: "remove runs finished longer ago than this, whatever their pipeline's retention (e.g. 1d, 0s)"),
                  .init(long: "dry-run", short: nil, valueName: nil, help: "list what would be removed; remove nothing"),
                  .init(long: "json", short: nil, valueName: nil, help: "print JSON")],
        positionalName: "nothing", positionals: 0...0,
        discussion: "A run is kept for its pipeline's `retention` (default 3d) after it finished. Unfinished runs are never removed.")

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        var olderThan: Duration?
        if let text = arguments.value("older-than") {
            guard case .success(let duration) = DurationText.parse(text) else {
                return RunnerCLI.usageError(UsageError(message: "--older-than takes a duration like 3d or 12h, got '\(text)'", hint: nil), context)
            }
            olderThan = duration
        }
        let service: RunService
        switch RunsCommand.service(context) {
        case .failure(let d): return RunsCommand.fail(d, context, RunsCommand.exitCode(opening: d))
        case .success(let s): service = s
        }
        let dryRun = arguments.has("dry-run")
        let collected: [GarbageCollector.Collected]
        do {
            collected = try service.garbageCollector.collect(now: Date(), olderThan: olderThan, dryRun: dryRun)
        } catch {
            return RunsCommand.fail(Diagnostic(.internalError, "gc: \(error)"), context, .internalError)
        }
        if arguments.has("json") {
            struct Removed: Encodable { var id: String; var pipeline: String; var status: String; var finished_at: String?; var retention: String }
            context.console.out(JSONOutput.encode(collected.map {
                Removed(id: $0.run.id.rawValue, pipeline: $0.run.pipeline, status: $0.run.status.rawValue,
                        finished_at: RunJSON.time($0.run.finishedAt), retention: DurationText.format($0.retention))
            }))
            return .success
        }
        for c in collected {
            context.console.out("\(dryRun ? "would remove" : "removed") run \(c.run.id)  \(c.run.pipeline)  \(c.run.status.rawValue)"
                                + "  finished \(RunJSON.time(c.run.finishedAt) ?? "?") (kept \(DurationText.format(c.retention)))\n")
        }
        context.console.out("\(collected.count) run\(collected.count == 1 ? "" : "s") \(dryRun ? "to remove" : "removed")\n")
        return .success
    }
}
