import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerJSON
import RunnerYAML

enum PlanCommand {
    static let spec = CommandSpec(
        name: "plan",
        summary: "Check params and show the DAG in execution order with each step's effective policies",
        usage: "runner plan FILE [-p NAME=VALUE]... [--params FILE.json] [--json]",
        options: [
            ParamInputs.param, ParamInputs.params,
            .init(long: "json", short: nil, valueName: nil, help: "print the plan as JSON"),
        ],
        positionalName: "a FILE",
        positionals: 1...1,
        discussion: "Exit status: 0 when the pipeline and params are valid, 2 otherwise (with the param's own error code).")

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let file = arguments.positionals[0]
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        let loaded = PipelineLoader.load(path: file)
        defer { ExitWithoutTeardown.keep(loaded) }
        guard let validated = loaded.pipeline else {
            loaded.diagnostics.forEach { context.console.err(renderer.render($0)) }
            return .invalid
        }
        let inputs: [(name: String, input: ParamInput)]
        do { inputs = try ParamInputs.collect(arguments, context) } catch { return error }
        let resolution = ParamResolver.resolve(inputs, against: validated.pipeline.params)
        if resolution.diagnostics.hasErrors {
            resolution.diagnostics.forEach { context.console.err(renderer.render($0)) }
            if !arguments.has("json") {
                context.console.err("\(renderer.style.red("error")): invalid params for pipeline '\(validated.pipeline.name.value)'\n"
                                    + ParamTable.render(validated.pipeline.params))
            } else {
                context.console.out(JSONOutput.encode(["diagnostics": resolution.diagnostics.map(DiagnosticJSON.init)]))
            }
            return .invalid
        }
        // Refs → SHAs, as `apply` would resolve them when creating the run.
        let absolute = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: context.currentDirectory)).standardizedFileURL.path
        let git = GitRefs.resolve(validated, params: resolution.values, pipelineFile: absolute, git: Composition.git)
        // Path params as `apply` checks them, without making their roots.
        let problems = git.diagnostics + PathParams.check(validated, params: resolution.values, pipelineFile: absolute,
                                                          actor: LocalAudit.actor, environment: context.environment,
                                                          makesRoots: false)
        if !problems.isEmpty {
            if arguments.has("json") {
                context.console.out(JSONOutput.encode(["diagnostics": problems.map(DiagnosticJSON.init)]))
            } else {
                problems.forEach { context.console.err(renderer.render($0)) }
            }
            return .invalid
        }
        let plan = PlanModel(validated, params: resolution.values, given: Set(inputs.map(\.name)), environment: context.environment,
                             refs: git.refs)
        if arguments.has("json") {
            context.console.out(JSONOutput.encode(plan))
        } else {
            loaded.diagnostics.forEach { context.console.err(renderer.render($0)) }
            context.console.out(PlanTextRenderer(style: Style(enabled: context.console.colorsOutput)).render(plan))
        }
        return .success
    }
}

/// The declared params, one a line, for a reader who just passed wrong ones.
enum ParamTable {
    static func render(_ specs: [ParamSpec]) -> String {
        guard !specs.isEmpty else { return "this pipeline takes no params\n" }
        let width = specs.map(\.name.value.count).max() ?? 0
        var out = "params:\n"
        for spec in specs {
            var facts = [describe(spec.kind)]
            if spec.isRequired { facts.append("required") }
            if let d = spec.defaultValue { facts.append("default \(d.value.displayText)") }
            if let code = spec.errorCode { facts.append("error \(code.value)") }
            out += "  \(spec.name.value)\(String(repeating: " ", count: width - spec.name.value.count))  \(facts.joined(separator: ", "))\n"
        }
        return out
    }

    static func describe(_ kind: ParamKind) -> String {
        switch kind {
        case .enumeration(let values): return values.joined(separator: "|")
        case .list(let rules):
            var text = "list of \(describe(rules.items))"
            if let min = rules.minItems { text += ", at least \(min)" }
            if let max = rules.maxItems { text += ", at most \(max)" }
            return text
        case .timestamp: return "timestamp (ISO 8601)"
        case .path(let rules): return "path under \(rules.root.source)"
        default: return kind.displayName
        }
    }
}
