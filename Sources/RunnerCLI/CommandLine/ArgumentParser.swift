import RunnerCore

/// A command's options and positionals: enough to parse, validate and print help.
struct CommandSpec: Sendable {
    struct Option: Sendable {
        var long: String
        var short: Character?
        /// Nil for a flag.
        var valueName: String?
        var help: String
        var isRepeatable = false
    }

    var name: String
    var summary: String
    var usage: String
    var options: [Option]
    var positionalName: String
    var positionals: ClosedRange<Int>
    var discussion: String = ""

    static let helpOption = Option(long: "help", short: "h", valueName: nil, help: "show this help")
}

struct ParsedArguments {
    var options: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []

    func value(_ long: String) -> String? { options[long]?.last }
    func values(_ long: String) -> [String] { options[long] ?? [] }
    func has(_ flag: String) -> Bool { flags.contains(flag) }
}

struct UsageError: Error {
    var message: String
    var hint: String?
}

/// Parses `--long`, `--long=value`, `--long value`, `-s value`, `-svalue` and `--`.
enum ArgumentParser {
    static func parse(_ arguments: [String], for spec: CommandSpec) -> Result<ParsedArguments, UsageError> {
        var parsed = ParsedArguments()
        let options = spec.options + [CommandSpec.helpOption]
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || argument == "-" || !argument.hasPrefix("-") {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" { onlyPositionals = true; continue }
            switch option(argument, in: options, of: spec) {
            case .failure(let error): return .failure(error)
            case .success(let (option, inlineValue)):
                if let error = take(option, argument, inlineValue, of: spec, from: arguments, at: &index, into: &parsed) {
                    return .failure(error)
                }
            }
        }
        if parsed.has("help") { return .success(parsed) }
        return checkPositionals(parsed, of: spec)
    }

    /// The option an argument names, and the value written in it (`--name=value`, `-svalue`).
    private static func option(_ argument: String, in options: [CommandSpec.Option],
                               of spec: CommandSpec) -> Result<(CommandSpec.Option, String?), UsageError> {
        if argument.hasPrefix("--") {
            let body = argument.dropFirst(2)
            let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            let inlineValue = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            guard let option = options.first(where: { $0.long == name }) else {
                return .failure(UsageError(message: "unknown option '--\(name)' for '\(spec.name)'",
                                           hint: Suggestion.closest(to: name, in: options.map(\.long)).map { "did you mean '--\($0)'?" }
                                               ?? "see 'runner \(spec.name) --help'"))
            }
            return .success((option, inlineValue))
        }
        let short = argument.dropFirst().first
        guard let option = options.first(where: { $0.short != nil && $0.short == short }) else {
            return .failure(UsageError(message: "unknown option '-\(short.map(String.init) ?? "")' for '\(spec.name)'",
                                       hint: "see 'runner \(spec.name) --help'"))
        }
        return .success((option, argument.count > 2 ? String(argument.dropFirst(2)) : nil))
    }

    /// Records the option (its value from `inlineValue` or the next argument); an error when it
    /// cannot be.
    private static func take(_ option: CommandSpec.Option, _ argument: String, _ inlineValue: String?, of spec: CommandSpec,
                             from arguments: [String],
                             at index: inout Int, into parsed: inout ParsedArguments) -> UsageError? {
        guard let valueName = option.valueName else {
            if inlineValue != nil, argument.hasPrefix("--") {
                return UsageError(message: "option '--\(option.long)' takes no value", hint: nil)
            }
            if inlineValue != nil {
                return UsageError(message: "unknown option '\(argument)' for '\(spec.name)'", hint: "see 'runner \(spec.name) --help'")
            }
            parsed.flags.insert(option.long)
            return nil
        }
        let value: String
        if let inlineValue {
            value = inlineValue
        } else if index < arguments.count {
            value = arguments[index]
            index += 1
        } else {
            return UsageError(message: "option '--\(option.long)' needs a value (\(valueName))", hint: nil)
        }
        if !option.isRepeatable, parsed.options[option.long] != nil {
            return UsageError(message: "option '--\(option.long)' is given more than once", hint: nil)
        }
        parsed.options[option.long, default: []].append(value)
        return nil
    }

    private static func checkPositionals(_ parsed: ParsedArguments, of spec: CommandSpec) -> Result<ParsedArguments, UsageError> {
        let count = parsed.positionals.count
        if count < spec.positionals.lowerBound {
            return .failure(UsageError(message: "'\(spec.name)' needs \(spec.positionalName)", hint: "usage: \(spec.usage)"))
        }
        if count > spec.positionals.upperBound {
            let most = spec.positionals.upperBound == 1 ? "one" : "\(spec.positionals.upperBound)"
            return .failure(UsageError(message: "'\(spec.name)' takes \(most) \(spec.positionalName), got \(count): "
                                           + parsed.positionals.joined(separator: " "),
                                       hint: "usage: \(spec.usage)"))
        }
        return .success(parsed)
    }

    static func help(for spec: CommandSpec) -> String {
        var out = "\(spec.summary)\n\nUSAGE: \(spec.usage)\n"
        let options = spec.options + [CommandSpec.helpOption]
        out += "\nOPTIONS:\n"
        let rows = options.map { o -> (String, String) in
            var left = o.short.map { "-\($0), " } ?? "    "
            left += "--\(o.long)"
            if let v = o.valueName { left += " \(v)" }
            return (left, o.help + (o.isRepeatable ? " (repeatable)" : ""))
        }
        let width = rows.map(\.0.count).max() ?? 0
        for (left, right) in rows {
            out += "  \(left)\(String(repeating: " ", count: width - left.count + 2))\(right)\n"
        }
        if !spec.discussion.isEmpty { out += "\n\(spec.discussion)\n" }
        return out
    }
}
