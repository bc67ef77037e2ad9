import RunnerCore

/// What a contract template answers, as JSON Schema: objects with their keys in the order
/// written (every key always there, no other), arrays for loops, either branch of a choice
/// (`{if, then, else}`), and for each leaf what its
/// expression can give — the type of each field it reads (`run.progress` an integer 0–100, a
/// timestamp a string in the contract's `time_format`, `null` until set), the contract's words
/// for `run.status`, literals as themselves, joined over the branches of `?:` and `??`.
struct OpenAPITemplateSchema {
    var contract: APIContract
    var pipeline: Pipeline
    /// Whether `run.*` and `steps.*` read a run (a success, a conflict's active run, ...).
    var hasRun: Bool
    /// Whether `params.*` are the run's, of the declared types (a success body); else they
    /// are whatever the request or another pipeline's active run holds.
    var paramsAreDeclared: Bool
    var hasError = false
    /// Inside a loop over steps: `step.*`.
    var isInStep = false
    /// The path parameters the request had.
    var pathParameters: Set<String>
    /// False where an answer may come before the path was read (a refused token): its
    /// parameters may then be `null`.
    var isPathKnown = true

    func schema(_ template: ContractTemplate) -> OpenAPIJSON {
        switch template {
        case .value(let expression):
            return value(expression.root).json
        case .object(let members):
            var keys: [String] = []
            for member in members where !keys.contains(member.key) { keys.append(member.key) }
            return ["type": "object",
                    "properties": .object(members.map { .init(key: $0.key, value: schema($0.value)) }),
                    "required": .array(keys.map(OpenAPIJSON.string)), "additionalProperties": false]
        case .array(let items):
            return ["type": "array", "prefixItems": .array(items.map(schema)), "minItems": .int(items.count),
                    "maxItems": .int(items.count)]
        case .each(let loop):
            var inner = self
            switch loop.source.value {
            case .runs: (inner.hasRun, inner.paramsAreDeclared, inner.isInStep) = (true, true, false)
            case .steps, .instances: inner.isInStep = true
            }
            return ["type": "array", "items": inner.schema(loop.item)]
        case .choice(_, let then, let otherwise):
            let options = OpenAPIGenerator.distinct([schema(then), otherwise.map(schema) ?? ["type": "null"]])
            return options.count == 1 ? options[0] : ["anyOf": .array(options)]
        }
    }

    func value(_ node: ExpressionNode) -> OpenAPIValueSchema {
        switch node.kind {
        case .literal(let literal): return Self.literal(literal)
        case .list: return OpenAPIValueSchema(kinds: [.array])
        case .reference(let reference): return value(of: reference)
        case .not, .logical, .binary: return .boolean
        case .chain(.plus, let operands): return Self.sum(operands.map(value))
        case .chain(.coalesce, let operands):
            var joined: OpenAPIValueSchema?
            for operand in operands {
                let next = value(operand)
                joined = joined.map { $0.joined(with: next.withoutNull) } ?? next.withoutNull
                if !next.isNullable { return joined ?? next }
            }
            return (joined ?? .null).orNull
        case .conditional(let branches, let otherwise):
            return branches.map { value($0.value) }.reduce(value(otherwise)) { $0.joined(with: $1) }
        }
    }

    private static func literal(_ literal: Value) -> OpenAPIValueSchema {
        switch literal {
        case .null: .null
        case .bool(let b): OpenAPIValueSchema(kinds: [.boolean], values: [.bool(b)])
        case .int(let i): OpenAPIValueSchema(kinds: [.integer], values: [.int(i)], minimum: i, maximum: i)
        case .number(let d): OpenAPIValueSchema(kinds: [.number], values: [.number(d)])
        case .string(let s): .words([s])
        case .list: OpenAPIValueSchema(kinds: [.array])
        }
    }

    /// `a + b`: text as soon as one side is surely a string; numbers added (`null` when one
    /// is not a number); either, when a side may or may not be a string. A list makes the
    /// whole sum `null` (a request's param given as a list where text was declared).
    private static func sum(_ operands: [OpenAPIValueSchema]) -> OpenAPIValueSchema {
        let number = OpenAPIValueSchema(kinds: [.number, .null])
        let sum: OpenAPIValueSchema
        if operands.contains(where: { $0.kinds == [.string] }) {
            sum = .string
        } else if operands.contains(where: { $0.kinds?.contains(.string) ?? true }) {
            sum = number.joined(with: .string)
        } else {
            sum = number
        }
        return operands.contains { $0.kinds?.contains(.array) ?? true } ? sum.orNull : sum
    }

    private func value(of reference: Reference) -> OpenAPIValueSchema {
        switch reference {
        case .param(let name):
            guard paramsAreDeclared, let spec = pipeline.param(named: name) else { return .any }
            return OpenAPIParamSchema.value(spec)
        case .stepStatus:
            return hasRun ? OpenAPIValueSchema.words(StepStatus.allCases.map(\.rawValue)).orNull : .null
        case .stepOutput:
            return hasRun ? OpenAPIValueSchema.string.orNull : .null
        case .env:
            return .any
        case .field(let path):
            return field(path)
        }
    }

    private func field(_ path: [String]) -> OpenAPIValueSchema {
        switch (path.first ?? "", path.count) {
        case ("run", 2): return hasRun ? runField(path[1]) : .null
        case ("step", 2): return isInStep ? stepField(path[1]) : .null
        case ("step", 3) where path[1] == "outputs": return isInStep ? OpenAPIValueSchema.string.orNull : .null
        case ("steps", 3): return hasRun ? stepField(path[2]).orNull : .null
        case ("request", 2): return path[1] == "method" ? .string : OpenAPIValueSchema.string.orNull
        case ("request", 3):
            guard pathParameters.contains(path[2]) else { return .null }
            return isPathKnown ? .string : OpenAPIValueSchema.string.orNull
        case ("error", 2): return hasError ? errorField(path[1]) : .null
        default: return .any
        }
    }

    private func runField(_ name: String) -> OpenAPIValueSchema {
        switch name {
        case "id", "pipeline": .string
        case "status": .words(contract.runStatuses?.entries.map(\.word.value) ?? RunStatus.allCases.map(\.rawValue))
        case "state": .words(RunStatus.allCases.map(\.rawValue))
        case "trigger": .words(Trigger.allCases.map(\.rawValue))
        case "created_at", "updated_at": timestamp
        case "started_at", "finished_at": timestamp.orNull
        case "retryable": .boolean
        case "progress": .integer(0, 100)
        default: OpenAPIValueSchema.string.orNull
        }
    }

    private func stepField(_ name: String) -> OpenAPIValueSchema {
        switch name {
        case "id", "name", "step": .string
        case "section": .words(["main", "rollback", "finally"])
        case "status": .words(contract.stepStatuses?.entries.map(\.word.value) ?? StepStatus.allCases.map(\.rawValue))
        case "state": .words(StepStatus.allCases.map(\.rawValue))
        case "attempts": .integer(0, nil)
        case "progress": OpenAPIValueSchema.integer(0, 100).orNull
        case "started_at", "finished_at": timestamp.orNull
        default: OpenAPIValueSchema.string.orNull
        }
    }

    private func errorField(_ name: String) -> OpenAPIValueSchema {
        switch name {
        case "status": .integer(100, 599)
        case "code", "message": .string
        default: OpenAPIValueSchema.string.orNull
        }
    }

    private var timestamp: OpenAPIValueSchema {
        OpenAPIValueSchema(kinds: [.string], pattern: Self.pattern(of: contract.timeFormat?.value ?? .rfc3339))
    }

    /// The regular expression every timestamp written in `format` matches.
    static func pattern(of format: TimeFormat) -> String {
        if format.pieces.isEmpty { return "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{3})?Z$" }
        let body = format.pieces.map { piece -> String in
            switch piece {
            case .year: "[0-9]{4}"
            case .month, .day, .hour, .minute, .second: "[0-9]{2}"
            case .fraction(let digits): "[0-9]{\(digits)}"
            case .offset(let zulu): zulu ? "Z" : "[+]00:00"
            case .literal(let text): text.map { #"\^$.|?*+()[]{}/"#.contains($0) ? "\\\($0)" : String($0) }.joined()
            }
        }
        return "^" + body.joined() + "$"
    }
}
