/// The values an expression reads when it is evaluated.
public struct EvaluationContext: Sendable {
    public var params: [String: Value]
    public var stepStatuses: [String: StepStatus]
    public var stepOutputs: [String: [String: String]]
    public var env: [String: String]

    public init(params: [String: Value] = [:], stepStatuses: [String: StepStatus] = [:],
                stepOutputs: [String: [String: String]] = [:], env: [String: String] = [:]) {
        self.params = params
        self.stepStatuses = stepStatuses
        self.stepOutputs = stepOutputs
        self.env = env
    }
}

/// Evaluates a checked expression. Unset values are `null`; `null` is false where a boolean is
/// needed. Never traps: a type the checker should have refused gives `false`.
public enum ExpressionEvaluator {
    public static func evaluate(_ node: ExpressionNode, in context: EvaluationContext) -> Value {
        switch node.kind {
        case .literal(let v):
            return v
        case .list(let items):
            return .list(items.map { evaluate($0, in: context) })
        case .reference(let r):
            switch r {
            case .param(let name): return context.params[name] ?? .null
            case .env(let name): return .string(context.env[name] ?? "")
            case .stepStatus(let step): return context.stepStatuses[step].map { .string($0.rawValue) } ?? .null
            case .stepOutput(let step, let output): return context.stepOutputs[step]?[output].map(Value.string) ?? .null
            }
        case .not(let operand):
            return .bool(!isTrue(evaluate(operand, in: context)))
        case .logical(.and, let operands):
            return .bool(operands.allSatisfy { isTrue(evaluate($0, in: context)) })
        case .logical(.or, let operands):
            return .bool(operands.contains { isTrue(evaluate($0, in: context)) })
        case .binary(let op, let l, let r):
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
    }

    /// Evaluates what can be known before a run: params only. Reads of steps and env are
    /// unknown (nil), and `&&`/`||` still decide when one side settles it (`true || ?`).
    public static func partiallyEvaluate(_ node: ExpressionNode, params: [String: Value]) -> Value? {
        switch node.kind {
        case .literal(let v):
            return v
        case .list(let items):
            var values: [Value] = []
            for item in items {
                guard let v = partiallyEvaluate(item, params: params) else { return nil }
                values.append(v)
            }
            return .list(values)
        case .reference(.param(let name)):
            return params[name] ?? .null
        case .reference:
            return nil
        case .not(let operand):
            return partiallyEvaluate(operand, params: params).map { .bool(!isTrue($0)) }
        case .logical(let op, let operands):
            // One operand that settles it (false for &&, true for ||) decides, known or not the rest.
            let settling = op == .or
            var isKnown = true
            for operand in operands {
                guard let value = partiallyEvaluate(operand, params: params) else {
                    isKnown = false
                    continue
                }
                if isTrue(value) == settling { return .bool(settling) }
            }
            return isKnown ? .bool(!settling) : nil
        case .binary(_, let l, let r):
            guard partiallyEvaluate(l, params: params) != nil, partiallyEvaluate(r, params: params) != nil else { return nil }
            return evaluate(node, in: EvaluationContext(params: params))
        }
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
