/// Checks names, dependencies and types of an expression. Collects every problem.
public struct ExpressionChecker {
    public let expression: ParsedExpression
    public let scope: ExpressionScope
    public internal(set) var diagnostics: [Diagnostic] = []

    public static func check(_ expression: ParsedExpression, in scope: ExpressionScope, expecting expected: ExpressionType?) -> [Diagnostic] {
        var checker = ExpressionChecker(expression: expression, scope: scope)
        let type = checker.type(of: expression.root)
        if let expected, let type, type != expected, !(expected == .bool && type == .null) {
            var hint: String?
            if expected == .bool, type == .string { hint = "compare it, e.g. `\(expression.text) == \"true\"`" }
            if expected == .list { hint = "use a list param (`params.X` of type list) or a list literal `[\"a\", \"b\"]`" }
            checker.report(.expressionType, "\(scope.owner) must be \(expected.article), but this is \(type.article)",
                           expression.root, hint: hint)
        }
        return checker.diagnostics
    }

    mutating func report(_ code: DiagnosticCode, _ message: String, _ node: ExpressionNode, hint: String? = nil) {
        diagnostics.append(Diagnostic(code, message, at: expression.location(of: node), length: node.length,
                                      hint: hint ?? code.help))
    }

    /// The static type, or nil when it is unknown because of an error already reported.
    /// Recursive once per level of nesting: cases that need more than a line are functions of
    /// their own, so their locals are not in every level's frame.
    mutating func type(of node: ExpressionNode) -> ExpressionType? {
        switch node.kind {
        case .literal(let v):
            switch v {
            case .null: return .null
            case .bool: return .bool
            case .int, .number: return .number
            case .string: return .string
            case .list: return .list
            }
        case .list(let items):
            for item in items { _ = type(of: item) }
            return .list
        case .reference(let r):
            return type(of: r, node)
        case .not(let operand):
            return notType(operand)
        case .logical(let op, let operands):
            return logicalType(op, operands)
        case .binary(let op, let l, let r):
            return binaryType(op, l, r, node)
        case .chain(.plus, let operands):
            return sumType(operands)
        case .chain(.coalesce, let operands):
            return coalesceType(operands)
        case .conditional(let branches, let otherwise):
            return conditionalType(branches, otherwise)
        }
    }

    private mutating func notType(_ operand: ExpressionNode) -> ExpressionType {
        if let t = type(of: operand), t != .bool, t != .null {
            report(.expressionType, "'!' needs a boolean, but this is \(t.article)", operand)
        }
        return .bool
    }

    private mutating func logicalType(_ op: LogicalOperator, _ operands: [ExpressionNode]) -> ExpressionType {
        for operand in operands {
            if let t = type(of: operand), t != .bool, t != .null {
                report(.expressionType, "'\(op.rawValue)' needs booleans, but this is \(t.article)", operand,
                       hint: t == .string ? "compare the string, e.g. `== \"true\"`" : nil)
            }
        }
        return .bool
    }

    private mutating func binaryType(_ op: BinaryOperator, _ l: ExpressionNode, _ r: ExpressionNode, _ node: ExpressionNode) -> ExpressionType? {
        let lt = type(of: l), rt = type(of: r)
        switch op {
        case .equal, .notEqual:
            if let lt, let rt, lt != rt, lt != .null, rt != .null {
                report(.expressionType, "cannot compare \(lt.article) with \(rt.article)", node,
                       hint: lt == .bool || rt == .bool ? "compare booleans with true/false, not strings" : nil)
            }
            checkLiteral(l, against: r)
            checkLiteral(r, against: l)
        case .contains:
            if let rt, rt != .list {
                report(.expressionType, "'in' needs a list on its right, but this is \(rt.article)", r)
            }
            if let lt, lt == .list {
                report(.expressionType, "'in' needs a single value on its left, but this is a list", l)
            }
            checkMembership(l, r)
        }
        return .bool
    }

    private mutating func type(of r: Reference, _ node: ExpressionNode) -> ExpressionType? {
        switch r {
        case .param(let name):
            guard let spec = scope.params[name] else {
                let hint = Suggestion.hint(for: name, in: scope.params.keys.sorted())
                    ?? (scope.params.isEmpty ? "the pipeline declares no params" : "declared params: " + scope.params.keys.sorted().joined(separator: ", "))
                report(.unknownParam, "unknown param '\(name)' in \(scope.owner)", node, hint: hint)
                return nil
            }
            return spec.kind.expressionType
        case .env:
            if !scope.allowsEnv {
                report(.expressionType, "\(scope.owner) cannot read env", node, hint: "use params here")
                return nil
            }
            return .string
        case .stepStatus(let step), .stepOutput(let step, _):
            guard let lookup = scope.steps else {
                report(.expressionType, "\(scope.owner) cannot read steps: it is evaluated before any step runs", node,
                       hint: "use params here")
                return nil
            }
            guard let info = lookup(step) else {
                report(.unknownStep, "unknown step '\(step)' in \(scope.owner)", node,
                       hint: Suggestion.hint(for: step, in: scope.stepNames) ?? DiagnosticCode.unknownStep.help)
                return nil
            }
            if case .stepOutput(_, let output) = r {
                if info.isForEach {
                    report(.unknownOutput, "step '\(step)' runs for_each: its outputs belong to its instances and cannot be read", node,
                           hint: "read `steps.\(step).status`, or write the result from a step after it")
                    return nil
                }
                if !info.outputs.contains(output) {
                    let hint = Suggestion.hint(for: output, in: info.outputs)
                        ?? (info.outputs.isEmpty ? "step '\(step)' declares no outputs; add `outputs: [\(output)]`"
                            : "step '\(step)' declares: " + info.outputs.joined(separator: ", "))
                    report(.unknownOutput, "step '\(step)' does not declare output '\(output)'", node, hint: hint)
                    return nil
                }
            }
            if !scope.canRead(step) {
                report(.undeclaredDependency, "\(scope.owner) reads '\(r)' but does not depend on '\(step)'", node,
                       hint: "add '\(step)' to `needs`, so it has finished when this is evaluated")
            }
            return .string
        case .field(let path):
            return fieldType(path, node)
        }
    }

    /// `steps.X.status == "sucess"` and `params.kind == "nope"` can never be true: say so.
    private mutating func checkLiteral(_ literal: ExpressionNode, against other: ExpressionNode) {
        guard case .literal(.string(let text)) = literal.kind, case .reference(let r) = other.kind else { return }
        checkValue(text, literal, against: r)
    }

    private mutating func checkMembership(_ l: ExpressionNode, _ r: ExpressionNode) {
        if case .reference(let ref) = l.kind, case .list(let items) = r.kind {
            for item in items {
                if case .literal(.string(let text)) = item.kind { checkValue(text, item, against: ref) }
            }
        }
        if case .literal(.string(let text)) = l.kind, case .reference(.param(let name)) = r.kind,
           case .list(let rules)? = scope.params[name]?.kind, case .enumeration(let values) = rules.items,
           !values.contains(text) {
            report(.invalidComparison, "'\(text)' can never be in params.\(name): its items are \(values.joined(separator: ", "))", l,
                   hint: Suggestion.hint(for: text, in: values))
        }
    }

    private mutating func checkValue(_ text: String, _ node: ExpressionNode, against r: Reference) {
        switch r {
        case .stepStatus:
            let statuses = StepStatus.allCases.map(\.rawValue)
            if !statuses.contains(text) {
                report(.invalidComparison, "'\(text)' is not a step status", node,
                       hint: Suggestion.hint(for: text, in: statuses) ?? "statuses are " + statuses.joined(separator: ", "))
            }
        case .param(let name):
            if case .enumeration(let values)? = scope.params[name]?.kind, !values.contains(text) {
                report(.invalidComparison, "'\(text)' is not a value of params.\(name)", node,
                       hint: Suggestion.hint(for: text, in: values) ?? "values are " + values.joined(separator: ", "))
            }
        default:
            break
        }
    }
}
