/// The values an expression reads when it is evaluated.
public struct EvaluationContext: Sendable {
    public var params: [String: Value]
    public var stepStatuses: [String: StepStatus]
    public var stepOutputs: [String: [String: String]]
    public var env: [String: String]
    /// Field values by dotted path (`"run.id"`); a path not here is `null`.
    public var fields: [String: Value] = [:]

    public init(params: [String: Value] = [:], stepStatuses: [String: StepStatus] = [:],
                stepOutputs: [String: [String: String]] = [:], env: [String: String] = [:],
                fields: [String: Value] = [:]) {
        self.params = params
        self.stepStatuses = stepStatuses
        self.stepOutputs = stepOutputs
        self.env = env
        self.fields = fields
    }
}

/// Evaluates a checked expression. Unset values are `null`; `null` is false where a boolean is
/// needed. Never traps: a type the checker should have refused gives `false`.
public enum ExpressionEvaluator {
    // Recursive once per level of nesting: each case that needs more than a line is in a
    // function of its own, so its locals are not in every level's frame.
    public static func evaluate(_ node: ExpressionNode, in context: EvaluationContext) -> Value {
        switch node.kind {
        case .literal(let v):
            return v
        case .list(let items):
            return .list(items.map { evaluate($0, in: context) })
        case .reference(let r):
            return value(of: r, in: context)
        case .not(let operand):
            return .bool(!isTrue(evaluate(operand, in: context)))
        case .logical(.and, let operands):
            return .bool(operands.allSatisfy { isTrue(evaluate($0, in: context)) })
        case .logical(.or, let operands):
            return .bool(operands.contains { isTrue(evaluate($0, in: context)) })
        case .binary(let op, let l, let r):
            return compare(op, l, r, in: context)
        case .chain(.plus, let operands):
            return sum(operands.lazy.map { evaluate($0, in: context) })
        case .chain(.coalesce, let operands):
            return coalesce(operands, in: context)
        case .conditional(let branches, let otherwise):
            let taken = branches.first { isTrue(evaluate($0.condition, in: context)) }
            return evaluate(taken?.value ?? otherwise, in: context)
        }
    }

    static func value(of reference: Reference, in context: EvaluationContext) -> Value {
        switch reference {
        case .param(let name): context.params[name] ?? .null
        case .env(let name): .string(context.env[name] ?? "")
        case .stepStatus(let step): context.stepStatuses[step].map { .string($0.rawValue) } ?? .null
        case .stepOutput(let step, let output): context.stepOutputs[step]?[output].map(Value.string) ?? .null
        case .field(let path): context.fields[path.joined(separator: ".")] ?? .null
        }
    }

    static func compare(_ op: BinaryOperator, _ l: ExpressionNode, _ r: ExpressionNode,
                        in context: EvaluationContext) -> Value {
        switch op {
        case .equal:
            return .bool(areEqual(evaluate(l, in: context), evaluate(r, in: context)))
        case .notEqual:
            return .bool(!areEqual(evaluate(l, in: context), evaluate(r, in: context)))
        case .contains:
            guard case .list(let items) = evaluate(r, in: context) else { return .bool(false) }
            let needle = evaluate(l, in: context)
            return .bool(items.contains { areEqual($0, needle) })
        }
    }

    /// The first operand that is not `null`; the ones after it are not evaluated.
    static func coalesce(_ operands: [ExpressionNode], in context: EvaluationContext) -> Value {
        for operand in operands {
            let value = evaluate(operand, in: context)
            if value != .null { return value }
        }
        return .null
    }

    public static func isTrue(_ value: Value) -> Bool {
        if case .bool(true) = value { return true }
        return false
    }

    static func areEqual(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case let (.int(x), .number(y)): return Double(x) == y
        case let (.number(x), .int(y)): return x == Double(y)
        default: return a == b
        }
    }
}
