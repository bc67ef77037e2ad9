/// The syntax tree of an expression. Offsets are in Unicode scalars from the start of the source.
///
/// The tree is as deep as the expression's nesting (parentheses, lists, `!`, the middle of
/// `c ? a : b`), which the parser bounds, never as deep as it is long: a chain `a && b && ...`
/// is one `logical` node, `a + b + ...` one `chain`, `c1 ? a : c2 ? b : d` one `conditional`.
/// Walks of the tree may therefore recurse (so does the synthesized `==`, `hash` and deinit).
public struct ExpressionNode: Hashable, Sendable {
    public indirect enum Kind: Hashable, Sendable {
        case literal(Value)
        case list([ExpressionNode])
        case reference(Reference)
        case not(ExpressionNode)
        /// A whole chain of one operator: two or more operands, in source order.
        case logical(LogicalOperator, [ExpressionNode])
        case binary(BinaryOperator, ExpressionNode, ExpressionNode)
        /// A whole chain of `+` or `??`: two or more operands, in source order, taken left to right.
        case chain(ChainOperator, [ExpressionNode])
        /// `c1 ? a1 : c2 ? a2 : otherwise`: the value of the first branch whose condition is true.
        case conditional([Branch], otherwise: ExpressionNode)
    }

    /// One `condition ? value` of a conditional.
    public struct Branch: Hashable, Sendable {
        public var condition: ExpressionNode
        public var value: ExpressionNode

        public init(condition: ExpressionNode, value: ExpressionNode) {
            self.condition = condition
            self.value = value
        }
    }

    public var kind: Kind
    public var offset: Int
    public var length: Int

    public init(_ kind: Kind, offset: Int, length: Int) {
        self.kind = kind
        self.offset = offset
        self.length = max(1, length)
    }

    /// Every reference in the tree, in source order.
    public var references: [(reference: Reference, node: ExpressionNode)] {
        var found: [(Reference, ExpressionNode)] = []
        visit { node in
            if case .reference(let r) = node.kind { found.append((r, node)) }
        }
        return found
    }

    func visit(_ body: (ExpressionNode) -> Void) {
        body(self)
        switch kind {
        case .literal, .reference: break
        case .list(let items): items.forEach { $0.visit(body) }
        case .not(let operand): operand.visit(body)
        case .logical(_, let operands): operands.forEach { $0.visit(body) }
        case .binary(_, let l, let r): l.visit(body); r.visit(body)
        case .chain(_, let operands): operands.forEach { $0.visit(body) }
        case .conditional(let branches, let otherwise):
            for branch in branches {
                branch.condition.visit(body)
                branch.value.visit(body)
            }
            otherwise.visit(body)
        }
    }
}

public enum Reference: Hashable, Sendable, CustomStringConvertible {
    case param(String)
    case stepStatus(String)
    case stepOutput(step: String, output: String)
    case env(String)
    /// Any other dotted path (`run.id`, `request.path.jobId`, `steps.X.progress`): what it
    /// names is up to the scope that offers fields (`ExpressionScope.fields`); elsewhere it is
    /// refused as an unknown name.
    case field([String])

    public var description: String {
        switch self {
        case .param(let p): "params.\(p)"
        case .stepStatus(let s): "steps.\(s).status"
        case .stepOutput(let s, let o): "steps.\(s).outputs.\(o)"
        case .env(let e): "env.\(e)"
        case .field(let path): path.joined(separator: ".")
        }
    }

    /// The step a reference reads, `steps.X.<field>` included.
    public var stepName: String? {
        switch self {
        case .stepStatus(let s), .stepOutput(let s, _): s
        case .field(let path) where path.count > 1 && path[0] == "steps": path[1]
        case .param, .env, .field: nil
        }
    }
}

/// Comparisons: never chained (`a == b == c` is refused), so they nest only through parentheses.
public enum BinaryOperator: String, Hashable, Sendable {
    case equal = "=="
    case notEqual = "!="
    case contains = "in"
}

public enum LogicalOperator: String, Hashable, Sendable {
    case and = "&&"
    case or = "||"
}

public enum ChainOperator: String, Hashable, Sendable {
    /// Joins strings when either side is one, adds numbers otherwise.
    case plus = "+"
    /// The left side unless it is `null`.
    case coalesce = "??"
}

/// An expression together with its source, so every later check can point into it.
public struct ParsedExpression: Hashable, Sendable {
    public var source: SourceText
    public var root: ExpressionNode

    public init(source: SourceText, root: ExpressionNode) {
        self.source = source
        self.root = root
    }

    public var text: String { source.text }

    public func location(of node: ExpressionNode) -> SourceLocation {
        source.location(atOffset: node.offset)
    }
}

/// The static type of an expression.
public enum ExpressionType: String, Hashable, Sendable {
    case bool, number, string, list, null

    var article: String {
        switch self {
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .list: "a list"
        case .null: "null"
        }
    }
}
