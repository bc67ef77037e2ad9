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
            let option: CommandSpec.Option?
            var inlineValue: String?
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                if body.contains("=") { inlineValue = String(body.drop { $0 != "=" }.dropFirst()) }
                option = options.first { $0.long == name }
                if option == nil {
                    return .failure(UsageError(message: "unknown option '--\(name)' for '\(spec.name)'",
                                               hint: Suggestion.closest(to: name, in: options.map(\.long)).map { "did you mean '--\($0)'?" }
                                                   ?? "see 'runner \(spec.name) --help'"))
                }
            } else {
                let short = argument.dropFirst().first!
                option = options.first { $0.short == short }
                if argument.count > 2 { inlineValue = String(argument.dropFirst(2)) }
                if option == nil {
                    return .failure(UsageError(message: "unknown option '-\(short)' for '\(spec.name)'",
                                               hint: "see 'runner \(spec.name) --help'"))
                }
            }
            guard let option else { continue }
            if let valueName = option.valueName {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else if index < arguments.count {
                    value = arguments[index]
                    index += 1
                } else {
                    return .failure(UsageError(message: "option '--\(option.long)' needs a value (\(valueName))", hint: nil))
                }
                if !option.isRepeatable, parsed.options[option.long] != nil {
                    return .failure(UsageError(message: "option '--\(option.long)' is given more than once", hint: nil))
                }
                parsed.options[option.long, default: []].append(value)
            } else {
                if inlineValue != nil, argument.hasPrefix("--") {
                    return .failure(UsageError(message: "option '--\(option.long)' takes no value", hint: nil))
                }
                if inlineValue != nil {
                    return .failure(UsageError(message: "unknown option '\(argument)' for '\(spec.name)'", hint: "see 'runner \(spec.name) --help'"))
                }
                parsed.flags.insert(option.long)
            }
        }
        if parsed.has("help") { return .success(parsed) }
        let count = parsed.positionals.count
        if count < spec.positionals.lowerBound {
            return .failure(UsageError(message: "'\(spec.name)' needs \(spec.positionalName)", hint: "usage: \(spec.usage)"))
        }
        if count > spec.positionals.upperBound {
            return .failure(UsageError(message: "'\(spec.name)' takes \(spec.positionals.upperBound == 1 ? "one" : "\(spec.positionals.upperBound)") \(spec.positionalName), got \(count): \(parsed.positionals.joined(separator: " "))",
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
