import FoundationEssentials
import RunnerCore

/// `-p NAME=VALUE` and `--params FILE.json`, merged: `-p` wins over the file.
enum ParamInputs {
    private enum Failure: Error {
        case usage(UsageError)
        case invalid(Diagnostic)
    }

    /// `-p NAME=VALUE`, as every command that takes params spells it.
    static let param = CommandSpec.Option(long: "param", short: "p", valueName: "NAME=VALUE",
                                          help: "a param value; lists as a,b or [\"a\",\"b\"]", isRepeatable: true)
    /// `--params FILE.json`, as the commands that run a pipeline file describe it.
    static let params = CommandSpec.Option(long: "params", short: nil, valueName: "FILE.json",
                                           help: "params as one JSON object, like an API body; -p wins")

    /// The params given; a usage error or an unreadable params file is printed, and its exit
    /// status thrown.
    static func collect(_ arguments: ParsedArguments,
                        _ context: RunnerCLI.Context) throws(ExitCode) -> [(name: String, input: ParamInput)] {
        switch parse(arguments) {
        case .failure(.usage(let error)):
            throw RunnerCLI.usageError(error, context)
        case .failure(.invalid(let d)):
            context.console.err(DiagnosticRenderer(colors: context.console.colorsError).render(d))
            throw .invalid
        case .success(let collected):
            return collected
        }
    }

    private static func parse(_ arguments: ParsedArguments) -> Result<[(name: String, input: ParamInput)], Failure> {
        var inputs: [(name: String, input: ParamInput)] = []
        if let path = arguments.value("params") {
            guard let data = FileManager.default.contents(atPath: path) else {
                return .failure(.invalid(Diagnostic(.invalidParamsFile, "cannot read params file \(path)", subject: path)))
            }
            do {
                let object = try JSONDecoder().decode([String: Value].self, from: data)
                inputs = object.keys.sorted().map { (name: $0, input: ParamInput.value(object[$0]!)) }
            } catch {
                return .failure(.invalid(Diagnostic(.invalidParamsFile, "params file \(path) is not a JSON object of param values",
                                                    hint: DiagnosticCode.invalidParamsFile.help, subject: path)))
            }
        }
        for raw in arguments.values("param") {
            guard let equals = raw.firstIndex(of: "="), equals != raw.startIndex else {
                return .failure(.usage(UsageError(message: "-p takes NAME=VALUE, got '\(raw)'", hint: "e.g. -p targetRef=main")))
            }
            let name = String(raw[..<equals])
            let value = String(raw[raw.index(after: equals)...])
            inputs.removeAll { $0.name == name && { if case .value = $0.input { true } else { false } }($0) }
            inputs.append((name, .text(value)))
        }
        return .success(inputs)
    }
}
