#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore
import RunnerJSON
import RunnerYAML

enum ValidateCommand {
    static let spec = CommandSpec(
        name: "validate",
        summary: "Check pipeline files and report every problem",
        usage: "runner validate FILE... [--json] [--timings]",
        options: [
            .init(long: "json", short: nil, valueName: nil, help: "print the result as JSON"),
            .init(long: "timings", short: nil, valueName: nil, help: "print the time spent reading, decoding and validating each file"),
        ],
        positionalName: "at least one FILE",
        positionals: 1...Int.max,
        discussion: "A directory stands for the .yaml and .yml files in it.\nExit status: 0 when every file is valid (warnings allowed), 2 otherwise.")

    struct FileJSON: Encodable {
        var file: String
        var valid: Bool
        var pipeline: String?
        var steps: Int?
        var diagnostics: [DiagnosticJSON]
    }

    struct OutputJSON: Encodable {
        var valid: Bool
        var errors: Int
        var warnings: Int
        var files: [FileJSON]
    }

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let results = expand(arguments.positionals).map { (file: $0, result: PipelineLoader.load(path: $0)) }
        defer { ExitWithoutTeardown.keep(results) }
        let errors = results.reduce(0) { $0 + $1.result.diagnostics.filter(\.isError).count }
        let warnings = results.reduce(0) { $0 + $1.result.diagnostics.filter { !$0.isError }.count }
        let allValid = results.allSatisfy(\.result.isValid)
        if arguments.has("json") {
            let files = results.map { file, result in
                FileJSON(file: file, valid: result.isValid, pipeline: result.pipeline?.pipeline.name.value,
                         steps: result.pipeline?.steps.count, diagnostics: result.diagnostics.map(DiagnosticJSON.init))
            }
            context.console.out(JSONOutput.encode(OutputJSON(valid: allValid, errors: errors, warnings: warnings, files: files)))
            return allValid ? .success : .invalid
        }
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        let style = Style(enabled: context.console.colorsOutput)
        for (file, result) in results {
            for d in result.diagnostics.prefix(Self.shownPerFile) { context.console.err(renderer.render(d)) }
            if result.diagnostics.count > Self.shownPerFile {
                context.console.err("\(file): \(result.diagnostics.count - Self.shownPerFile) more diagnostics not shown (--json lists them all)\n")
            }
            if let p = result.pipeline {
                let w = result.diagnostics.count
                context.console.out("\(style.green("ok")) \(file): pipeline '\(p.pipeline.name.value)', \(p.steps.count) step\(p.steps.count == 1 ? "" : "s")\(w > 0 ? ", \(w) warning\(w == 1 ? "" : "s")" : "")\n")
            }
        }
        if arguments.has("timings") {
            for (file, result) in results {
                let t = result.timings
                context.console.err("\(file): read \(Self.milliseconds(t.read)) ms, decode \(Self.milliseconds(t.decode)) ms, validate \(Self.milliseconds(t.validate)) ms\n")
            }
        }
        if !allValid {
            let invalid = results.filter { !$0.result.isValid }.count
            let summary = results.count == 1
                ? "\(results[0].file) is invalid: \(count(errors, "error"))\(warnings > 0 ? ", \(count(warnings, "warning"))" : "")"
                : "\(invalid) of \(results.count) files are invalid: \(count(errors, "error"))\(warnings > 0 ? ", \(count(warnings, "warning"))" : "")"
            context.console.err(renderer.style.red("error") + ": " + summary + "\n")
        }
        return allValid ? .success : .invalid
    }

    /// Directories stand for their pipeline files (not recursive), in name order; a directory
    /// without any stays, so the loader reports it.
    static func expand(_ paths: [String]) -> [String] {
        paths.flatMap { path -> [String] in
            guard FileSystem.isDirectory(path),
                  let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [path] }
            let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            return files.isEmpty ? [path] : files.map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
        }
    }

    /// Past this many, text output stops listing: the first problems are the useful ones.
    static let shownPerFile = 50

    static func milliseconds(_ d: Duration) -> String {
        let (seconds, attoseconds) = d.components
        return oneDecimal(Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
