/// Parses the expression language:
///
///     expr    := or
///     or      := and ('||' and)*
///     and     := unary ('&&' unary)*
///     unary   := '!' unary | compare
///     compare := primary (('==' | '!=' | 'in') primary)?
///     primary := literal | reference | '(' expr ')' | '[' (expr (',' expr)*)? ']'
///
/// A chain of `||` or `&&` becomes one node however long it is; the parser recurses only into
/// parentheses, lists and `!`, whose nesting is bounded by `maxDepth`.
public enum ExpressionParser {
    /// Levels of parentheses, lists and `!` together: deeper is refused (RUN2039), so no walk
    /// of a tree recurses further than this.
    public static let maxDepth = 64
    /// Bytes of UTF-8 text (RUN2038): bounds the tokens, the tree and the time to evaluate.
    public static let maxLength = 64 << 10

    public static func parse(_ source: SourceText) -> Result<ParsedExpression, Diagnostic> {
        let size = source.text.utf8.count
        guard size <= maxLength else {
            return .failure(Diagnostic(.expressionTooLong, "expression of \(size) bytes is longer than the limit of \(maxLength) bytes",
                                       at: source.location, hint: DiagnosticCode.expressionTooLong.help))
        }
        let tokens: [ExpressionToken]
        switch ExpressionLexer.tokenize(source.text) {
        case .success(let t): tokens = t
        case .failure(let e): return .failure(diagnostic(e, source))
        }
        var parser = Parser(tokens: tokens)
        do {
            if case .end = parser.peek.kind {
                throw ExpressionSyntaxError(message: "empty expression", offset: 0)
            }
            let root = try parser.parseOr(depth: 0)
            guard case .end = parser.peek.kind else {
                let t = parser.peek
                throw ExpressionSyntaxError(message: "unexpected \(describe(t)) after the end of the expression",
                                            offset: t.offset, length: t.length,
                                            hint: "join conditions with && or ||")
            }
            return .success(ParsedExpression(source: source, root: root))
        } catch let error as ExpressionSyntaxError {
            return .failure(diagnostic(error, source))
        } catch {
            return .failure(Diagnostic(.expressionSyntax, "\(error)", at: source.location))
        }
    }

    private static func diagnostic(_ e: ExpressionSyntaxError, _ source: SourceText) -> Diagnostic {
        Diagnostic(e.code, e.message, at: source.location(atOffset: e.offset), length: e.length, hint: e.hint ?? e.code.help)
    }

    static func describe(_ t: ExpressionToken) -> String {
        switch t.kind {
        case .identifier(let s): "'\(s)'"
        case .string(let s): "string \"\(s)\""
        case .number(let v): "number \(v.displayText)"
        case .symbol(let s): "'\(s)'"
        case .end: "end of expression"
        }
    }

    private struct Parser {
        var tokens: [ExpressionToken]
        var index = 0

        var peek: ExpressionToken { tokens[index] }

        mutating func advance() -> ExpressionToken {
            let t = tokens[index]
            if index < tokens.count - 1 { index += 1 }
            return t
        }

        func isSymbol(_ s: String) -> Bool {
            if case .symbol(s) = peek.kind { return true }
            return false
        }

        mutating func expect(_ s: String, closing open: ExpressionToken? = nil) throws {
            guard isSymbol(s) else {
                let t = peek
                var hint: String?
                if let open { hint = "to close '\(ExpressionParser.describe(open).dropFirst().dropLast())' at column offset \(open.offset + 1)" }
                throw ExpressionSyntaxError(message: "expected '\(s)', found \(ExpressionParser.describe(t))",
                                            offset: t.offset, length: t.length, hint: hint)
            }
            _ = advance()
        }

        /// The depth inside `opener` (a `(`, `[` or `!`), refused at the opener beyond the bound.
        func nest(_ opener: ExpressionToken, from depth: Int) throws -> Int {
            guard depth < ExpressionParser.maxDepth else {
                throw ExpressionSyntaxError(message: "expression nests deeper than \(ExpressionParser.maxDepth) levels",
                                            offset: opener.offset, length: opener.length, code: .expressionTooDeep)
            }
            return depth + 1
        }

        mutating func parseOr(depth: Int) throws -> ExpressionNode {
            try parseChain(.or, depth: depth)
        }

        /// `operand ('||' operand)*` (or `&&`) as one node: a loop, not recursion, however long
        /// the chain.
        mutating func parseChain(_ op: LogicalOperator, depth: Int) throws -> ExpressionNode {
            let first = try parseOperand(of: op, depth: depth)
            guard isSymbol(op.rawValue) else { return first }
            var operands = [first]
            while isSymbol(op.rawValue) {
                _ = advance()
                operands.append(try parseOperand(of: op, depth: depth))
            }
            return logical(op, operands, first)
        }

        /// `||` binds looser than `&&`, which binds looser than `!` and comparisons.
        mutating func parseOperand(of op: LogicalOperator, depth: Int) throws -> ExpressionNode {
            switch op {
            case .or: try parseChain(.and, depth: depth)
            case .and: try parseUnary(depth: depth)
            }
        }

        func logical(_ op: LogicalOperator, _ operands: [ExpressionNode], _ first: ExpressionNode) -> ExpressionNode {
            let last = operands.last ?? first
            return ExpressionNode(.logical(op, operands), offset: first.offset, length: last.offset + last.length - first.offset)
        }

        mutating func parseUnary(depth: Int) throws -> ExpressionNode {
            if isSymbol("!") {
                let bang = advance()
                let operand = try parseUnary(depth: try nest(bang, from: depth))
                return ExpressionNode(.not(operand), offset: bang.offset, length: operand.offset + operand.length - bang.offset)
            }
            return try parseCompare(depth: depth)
        }

        mutating func parseCompare(depth: Int) throws -> ExpressionNode {
            let left = try parsePrimary(depth: depth)
            let op: BinaryOperator?
            switch peek.kind {
            case .symbol("=="): op = .equal
            case .symbol("!="): op = .notEqual
            case .identifier("in"): op = .contains
            default: op = nil
            }
            guard let op else { return left }
            _ = advance()
            let right = try parsePrimary(depth: depth)
            if case .symbol(let s) = peek.kind, s == "==" || s == "!=" {
                throw ExpressionSyntaxError(message: "comparisons cannot be chained", offset: peek.offset, length: 2,
                                            hint: "join comparisons with && or ||")
            }
            return binary(op, left, right)
        }

        func binary(_ op: BinaryOperator, _ l: ExpressionNode, _ r: ExpressionNode) -> ExpressionNode {
            ExpressionNode(.binary(op, l, r), offset: l.offset, length: r.offset + r.length - l.offset)
        }

        mutating func parsePrimary(depth: Int) throws -> ExpressionNode {
            let t = advance()
            switch t.kind {
            case .string(let s): return ExpressionNode(.literal(.string(s)), offset: t.offset, length: t.length)
            case .number(let v): return ExpressionNode(.literal(v), offset: t.offset, length: t.length)
            case .symbol("("):
                let inner = try parseOr(depth: try nest(t, from: depth))
                try expect(")", closing: t)
                return inner
            case .symbol("["):
                let inside = try nest(t, from: depth)
                var items: [ExpressionNode] = []
                if !isSymbol("]") {
                    repeat {
                        if isSymbol(",") { _ = advance() }
                        items.append(try parseOr(depth: inside))
                    } while isSymbol(",")
                }
                let close = peek
                try expect("]", closing: t)
                return ExpressionNode(.list(items), offset: t.offset, length: close.offset + 1 - t.offset)
            case .identifier(let word):
                return try parseWord(word, t)
            case .end:
                throw ExpressionSyntaxError(message: "expression ends too early", offset: t.offset,
                                            hint: "complete the expression")
            default:
                throw ExpressionSyntaxError(message: "unexpected \(ExpressionParser.describe(t))", offset: t.offset, length: t.length)
            }
        }

        mutating func parseWord(_ word: String, _ t: ExpressionToken) throws -> ExpressionNode {
            switch word {
            case "true": return ExpressionNode(.literal(.bool(true)), offset: t.offset, length: t.length)
            case "false": return ExpressionNode(.literal(.bool(false)), offset: t.offset, length: t.length)
            case "null": return ExpressionNode(.literal(.null), offset: t.offset, length: t.length)
            case "params", "env":
                let name = try member(after: t, what: word == "params" ? "a param name" : "a variable name")
                let ref: Reference = word == "params" ? .param(name.text) : .env(name.text)
                return ExpressionNode(.reference(ref), offset: t.offset, length: name.end - t.offset)
            case "steps":
                return try parseStep(t)
            case "and", "or", "not":
                let symbol = word == "and" ? "&&" : word == "or" ? "||" : "!"
                throw ExpressionSyntaxError(message: "'\(word)' is not an operator", offset: t.offset, length: t.length,
                                            hint: "write '\(symbol)'")
            default:
                let hint = Suggestion.closest(to: word, in: ["params", "steps", "env", "true", "false", "null"])
                    .map { "did you mean '\($0)'?" } ?? "quote text to make a string: \"\(word)\""
                throw ExpressionSyntaxError(message: "unknown name '\(word)'", offset: t.offset, length: t.length, hint: hint)
            }
        }

        mutating func member(after t: ExpressionToken, what: String) throws -> (text: String, end: Int) {
            guard isSymbol(".") else {
                throw ExpressionSyntaxError(message: "expected '.' and \(what) after '\(tokenText(t))'",
                                            offset: t.offset + t.length, length: 1)
            }
            _ = advance()
            let n = advance()
            guard case .identifier(let name) = n.kind else {
                throw ExpressionSyntaxError(message: "expected \(what) after '\(tokenText(t)).'", offset: n.offset, length: n.length)
            }
            return (name, n.offset + n.length)
        }

        func tokenText(_ t: ExpressionToken) -> String {
            if case .identifier(let s) = t.kind { return s }
            return ExpressionParser.describe(t)
        }

        mutating func parseStep(_ t: ExpressionToken) throws -> ExpressionNode {
            let step = try member(after: t, what: "a step name")
            guard isSymbol(".") else {
                throw ExpressionSyntaxError(message: "'steps.\(step.text)' needs '.status' or '.outputs.NAME'",
                                            offset: step.end, length: 1)
            }
            _ = advance()
            let field = advance()
            guard case .identifier(let fieldName) = field.kind else {
                throw ExpressionSyntaxError(message: "expected 'status' or 'outputs' after 'steps.\(step.text).'",
                                            offset: field.offset, length: field.length)
            }
            switch fieldName {
            case "status":
                return ExpressionNode(.reference(.stepStatus(step.text)), offset: t.offset, length: field.offset + field.length - t.offset)
            case "outputs":
                let output = try member(after: field, what: "an output name")
                return ExpressionNode(.reference(.stepOutput(step: step.text, output: output.text)),
                                      offset: t.offset, length: output.end - t.offset)
            default:
                let hint = Suggestion.hint(for: fieldName, in: ["status", "outputs"]) ?? "a step has 'status' and 'outputs'"
                throw ExpressionSyntaxError(message: "steps have no field '\(fieldName)'", offset: field.offset,
                                            length: field.length, hint: hint)
            }
        }
    }
}
