import FoundationEssentials
import RunnerCore
import RunnerServer

/// `runner openapi [DIR]`: the OpenAPI document `runner serve --pipelines DIR` answers at
/// `GET /api/v1/openapi.json`, printed without a server.
enum OpenAPICommand {
    static let spec = CommandSpec(
        name: "openapi", summary: "Print the OpenAPI document of the HTTP API serving a directory's pipelines",
        usage: "runner openapi [DIR]", options: [],
        positionalName: "DIR", positionals: 0...1,
        discussion: """
        The runner's own routes (schemas/openapi.yaml, built in) and the routes of each pipeline of DIR
        (default: pipelines) that loads, generated from its YAML: its triggers.api routes and the contract
        routes of its api: section, with their bodies and every error they answer. Exits 2 when a pipeline
        is left out (each is reported, as runner serve does).
        """)

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let directory = arguments.positionals.first ?? "pipelines"
        let path = directory.hasPrefix("/") ? directory : context.currentDirectory + "/" + directory
        let (document, problems) = APIServer.openAPI(directory: path)
        let renderer = DiagnosticRenderer(colors: context.console.colorsError)
        for (file, diagnostics) in problems {
            context.console.err("runner openapi: leaving out \(file):\n")
            diagnostics.forEach { context.console.err(renderer.render($0)) }
        }
        guard document.status == 200 else {
            context.console.err(String(decoding: document.body, as: UTF8.self))
            return .internalError
        }
        context.console.out(String(decoding: document.body, as: UTF8.self))
        return problems.isEmpty ? .success : .invalid
    }
}
