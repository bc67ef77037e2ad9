/// Types of `+`, `??` and `c ? a : b`.
extension ExpressionChecker {
    /// Left to right: a string on either side joins, two numbers add. A list, or two other
    /// types, is refused at the operand that makes it so; the sum is then unknown.
    mutating func sumType(_ operands: [ExpressionNode]) -> ExpressionType? {
        var sum: ExpressionType?
        for (index, operand) in operands.enumerated() {
            let next = type(of: operand)
            if next == .list {
                report(.expressionType, "'+' joins strings or adds numbers, but this is a list", operand)
                sum = nil
            } else {
                sum = index == 0 ? next : added(next, to: sum, at: operand)
            }
        }
        return sum
    }

    private mutating func added(_ next: ExpressionType?, to sum: ExpressionType?,
                                at operand: ExpressionNode) -> ExpressionType? {
        if next == .string || sum == .string { return .string }
        guard let sum, let next else { return nil }
        if sum == .number, next == .number { return .number }
        report(.expressionType, "'+' joins strings or adds numbers, but this adds \(next.article) to \(sum.article)",
               operand, hint: "make one side a string to join them, e.g. `\"\" + a + b`")
        return nil
    }

    mutating func coalesceType(_ operands: [ExpressionNode]) -> ExpressionType? {
        var branches = Branches()
        for operand in operands { add(operand, to: &branches) }
        return branches.type
    }

    /// Conditions are booleans (`null` is false, as in `if`); the values are the branches.
    mutating func conditionalType(_ conditions: [ExpressionNode.Branch],
                                  _ otherwise: ExpressionNode) -> ExpressionType? {
        var branches = Branches()
        for branch in conditions {
            if let t = type(of: branch.condition), t != .bool, t != .null {
                report(.expressionType, "the condition of '?' must be a boolean, but this is \(t.article)",
                       branch.condition, hint: t == .string ? "compare the string, e.g. `== \"true\"`" : nil)
            }
            add(branch.value, to: &branches)
        }
        add(otherwise, to: &branches)
        return branches.type
    }

    /// The one type the branches of `??` or `? :` share; `null` goes with any type.
    struct Branches {
        var common: ExpressionType?
        var isKnown = true

        var type: ExpressionType? { common ?? (isKnown ? .null : nil) }
    }

    private mutating func add(_ branch: ExpressionNode, to branches: inout Branches) {
        guard let t = type(of: branch) else {
            branches.isKnown = false
            return
        }
        guard t != .null else { return }
        guard let common = branches.common else {
            branches.common = t
            return
        }
        if t != common {
            report(.expressionType, "both branches must be of one type: \(common.article) and \(t.article)", branch)
        }
    }
}
