import RunnerCore
import RunnerYAML

enum GraphCommand {
    static let spec = CommandSpec(
        name: "graph",
        summary: "Print the DAG as Mermaid, Graphviz dot or text",
        usage: "runner graph FILE [--format mermaid|dot|text]",
        options: [.init(long: "format", short: "f", valueName: "FORMAT", help: "mermaid, dot or text (default text)")],
        positionalName: "a FILE",
        positionals: 1...1,
        discussion: "Render dot with: runner graph FILE --format dot | dot -Tsvg > graph.svg")

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let formatName = arguments.value("format") ?? "text"
        guard let format = GraphRenderer.Format(rawValue: formatName) else {
            let names = GraphRenderer.Format.allCases.map(\.rawValue)
            return RunnerCLI.usageError(UsageError(
                message: "unknown graph format '\(formatName)'",
                hint: Suggestion.hint(for: formatName, in: names) ?? "formats: " + names.joined(separator: ", ")), context)
        }
        let loaded = PipelineLoader.load(path: arguments.positionals[0])
        defer { ExitWithoutTeardown.keep(loaded) }
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        loaded.diagnostics.forEach { context.console.err(renderer.render($0)) }
        guard let validated = loaded.pipeline else { return .invalid }
        context.console.out(GraphRenderer(validated: validated).render(format))
        return .success
    }
}
