extension ExpressionEvaluator {
    /// Evaluates what can be known before a run: params only. Reads of steps, env and fields
    /// are unknown (nil), and `&&`/`||` still decide when one side settles it (`true || ?`).
    public static func partiallyEvaluate(_ node: ExpressionNode, params: [String: Value]) -> Value? {
        switch node.kind {
        case .literal(let v):
            return v
        case .list(let items):
            return known(items, params: params).map(Value.list)
        case .reference(.param(let name)):
            return params[name] ?? .null
        case .reference:
            return nil
        case .not(let operand):
            return partiallyEvaluate(operand, params: params).map { .bool(!isTrue($0)) }
        case .logical(let op, let operands):
            return partiallyEvaluate(op, operands, params: params)
        case .binary(_, let l, let r):
            guard partiallyEvaluate(l, params: params) != nil, partiallyEvaluate(r, params: params) != nil else {
                return nil
            }
            return evaluate(node, in: EvaluationContext(params: params))
        case .chain(.plus, let operands):
            return known(operands, params: params).map(sum)
        case .chain(.coalesce, let operands):
            return partiallyCoalesce(operands, params: params)
        case .conditional(let branches, let otherwise):
            return partiallyEvaluate(branches, otherwise, params: params)
        }
    }

    /// The values of all the nodes, or nil when one of them is unknown.
    private static func known(_ nodes: [ExpressionNode], params: [String: Value]) -> [Value]? {
        var values: [Value] = []
        for node in nodes {
            guard let v = partiallyEvaluate(node, params: params) else { return nil }
            values.append(v)
        }
        return values
    }

    /// One operand that settles it (false for &&, true for ||) decides, known or not the rest.
    private static func partiallyEvaluate(_ op: LogicalOperator, _ operands: [ExpressionNode],
                                          params: [String: Value]) -> Value? {
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
    }

    /// Known up to the first operand that is unknown or not null.
    private static func partiallyCoalesce(_ operands: [ExpressionNode], params: [String: Value]) -> Value? {
        for operand in operands {
            guard let value = partiallyEvaluate(operand, params: params) else { return nil }
            if value != .null { return value }
        }
        return .null
    }

    /// Known up to the first condition that is unknown or true.
    private static func partiallyEvaluate(_ branches: [ExpressionNode.Branch], _ otherwise: ExpressionNode,
                                          params: [String: Value]) -> Value? {
        for branch in branches {
            guard let condition = partiallyEvaluate(branch.condition, params: params) else { return nil }
            if isTrue(condition) { return partiallyEvaluate(branch.value, params: params) }
        }
        return partiallyEvaluate(otherwise, params: params)
    }
}
