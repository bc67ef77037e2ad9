/// Parses the expression language:
///
///     expr     := coalesce ('?' expr ':' coalesce)*   (right-associative: `c1 ? a : c2 ? b : d`)
///     coalesce := or ('??' or)*
///     or       := and ('||' and)*
///     and      := unary ('&&' unary)*
///     unary    := '!' unary | compare
///     compare  := sum (('==' | '!=' | 'in') sum)?
///     sum      := primary ('+' primary)*
///     primary  := literal | reference | '(' expr ')' | '[' (expr (',' expr)*)? ']'
///     reference := ('params' | 'env') '.' NAME | 'steps' '.' NAME '.' ('status' | 'outputs' '.' NAME)
///                | field
///     field    := 'steps' '.' NAME '.' NAME ('.' NAME)* | NAME ('.' NAME)+   (other roots)
///
/// A chain of `??`, `||`, `&&` or `+`, and the `: c ? b` tail of a conditional, become one node
/// however long they are; the parser recurses only into parentheses, lists, `!` and the middle
/// of `c ? a : b`, whose nesting is bounded by `maxDepth`.
public enum ExpressionParser {
    /// Levels of parentheses, lists, `!` and `? :` middles together: deeper is refused
    /// (RUN2039), so no walk of a tree recurses further than this.
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
            let root = try parser.parseExpression(depth: 0)
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

        /// The depth inside `opener` (a `(`, `[`, `!` or `?`), refused at the opener beyond the bound.
        func nest(_ opener: ExpressionToken, from depth: Int) throws -> Int {
            guard depth < ExpressionParser.maxDepth else {
                throw ExpressionSyntaxError(message: "expression nests deeper than \(ExpressionParser.maxDepth) levels",
                                            offset: opener.offset, length: opener.length, code: .expressionTooDeep)
            }
            return depth + 1
        }

        mutating func parseExpression(depth: Int) throws -> ExpressionNode {
            let first = try parseChains(depth: depth)
            return isSymbol("?") ? try parseConditional(after: first, depth: depth) : first
        }

        /// `c1 ? a1 : c2 ? a2 : d` as one node: the tail after each `:` is a loop, not recursion;
        /// only a middle (`a1`) nests.
        mutating func parseConditional(after first: ExpressionNode, depth: Int) throws -> ExpressionNode {
            var branches: [ExpressionNode.Branch] = []
            var otherwise = first
            while isSymbol("?") {
                let mark = advance()
                let value = try parseExpression(depth: try nest(mark, from: depth))
                guard isSymbol(":") else {
                    throw ExpressionSyntaxError(message: "expected ':', found \(ExpressionParser.describe(peek))",
                                                offset: peek.offset, length: peek.length,
                                                hint: "write `condition ? value : other value`")
                }
                _ = advance()
                branches.append(.init(condition: otherwise, value: value))
                otherwise = try parseChains(depth: depth)
            }
            return ExpressionNode(.conditional(branches, otherwise: otherwise), offset: first.offset,
                                  length: otherwise.offset + otherwise.length - first.offset)
        }

        /// The chains made of unary operands, loosest first.
        enum Chain: Int, Comparable {
            case coalesce, or, and

            init?(_ token: ExpressionToken) {
                switch token.kind {
                case .symbol("??"): self = .coalesce
                case .symbol("||"): self = .or
                case .symbol("&&"): self = .and
                default: return nil
                }
            }

            func kind(_ operands: [ExpressionNode]) -> ExpressionNode.Kind {
                switch self {
                case .coalesce: .chain(.coalesce, operands)
                case .or: .logical(.or, operands)
                case .and: .logical(.and, operands)
                }
            }

            static func < (a: Chain, b: Chain) -> Bool { a.rawValue < b.rawValue }
        }

        /// `??`, `||` and `&&` chains, each one node however long: one loop that keeps the
        /// chains still open, loosest first, so neither a long chain nor the precedence levels
        /// add recursion.
        mutating func parseChains(depth: Int) throws -> ExpressionNode {
            var open: [(chain: Chain, operands: [ExpressionNode])] = []
            var operand = try parseUnary(depth: depth)
            while let chain = Chain(peek) {
                _ = advance()
                while let last = open.last, last.chain > chain {
                    open.removeLast()
                    operand = node(last.chain.kind, last.operands + [operand])
                }
                if open.last?.chain == chain {
                    open[open.count - 1].operands.append(operand)
                } else {
                    open.append((chain, [operand]))
                }
                operand = try parseUnary(depth: depth)
            }
            while let last = open.popLast() {
                operand = node(last.chain.kind, last.operands + [operand])
            }
            return operand
        }

        /// `primary ('+' primary)*` as one node.
        mutating func parseSum(depth: Int) throws -> ExpressionNode {
            let first = try parsePrimary(depth: depth)
            guard isSymbol("+") else { return first }
            var operands = [first]
            while isSymbol("+") {
                _ = advance()
                operands.append(try parsePrimary(depth: depth))
            }
            return node({ .chain(.plus, $0) }, operands)
        }

        /// A node spanning its operands, from the first to the last.
        func node(_ kind: ([ExpressionNode]) -> ExpressionNode.Kind, _ operands: [ExpressionNode]) -> ExpressionNode {
            let first = operands[0], last = operands[operands.count - 1]
            return ExpressionNode(kind(operands), offset: first.offset,
                                  length: last.offset + last.length - first.offset)
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
            let left = try parseSum(depth: depth)
            guard let op = comparison else { return left }
            _ = advance()
            let right = try parseSum(depth: depth)
            if let next = comparison, next != .contains { throw Self.chainedComparison(at: peek) }
            return ExpressionNode(.binary(op, left, right), offset: left.offset,
                                  length: right.offset + right.length - left.offset)
        }

        /// The comparison the next token is, if it is one.
        var comparison: BinaryOperator? {
            switch peek.kind {
            case .symbol(let s): BinaryOperator(rawValue: s).flatMap { $0 == .contains ? nil : $0 }
            case .identifier(let word): word == BinaryOperator.contains.rawValue ? .contains : nil
            default: nil
            }
        }

        static func chainedComparison(at t: ExpressionToken) -> ExpressionSyntaxError {
            ExpressionSyntaxError(message: "comparisons cannot be chained", offset: t.offset, length: 2,
                                  hint: "join comparisons with && or ||")
        }

        // The parse functions recurse once per level of nesting: what they need only on a
        // rarer path (lists, errors) is kept out of them, so each level takes less stack.
        mutating func parsePrimary(depth: Int) throws -> ExpressionNode {
            let t = advance()
            switch t.kind {
            case .string(let s): return ExpressionNode(.literal(.string(s)), offset: t.offset, length: t.length)
            case .number(let v): return ExpressionNode(.literal(v), offset: t.offset, length: t.length)
            case .identifier(let word): return try parseWord(word, t)
            case .symbol(let s) where s == "(":
                let inner = try parseExpression(depth: try nest(t, from: depth))
                try expect(")", closing: t)
                return inner
            case .symbol(let s) where s == "[": return try parseList(t, depth: try nest(t, from: depth))
            default: throw Self.unexpected(t)
            }
        }

        mutating func parseList(_ open: ExpressionToken, depth inside: Int) throws -> ExpressionNode {
            var items: [ExpressionNode] = []
            if !isSymbol("]") {
                repeat {
                    if isSymbol(",") { _ = advance() }
                    items.append(try parseExpression(depth: inside))
                } while isSymbol(",")
            }
            let close = peek
            try expect("]", closing: open)
            return ExpressionNode(.list(items), offset: open.offset, length: close.offset + 1 - open.offset)
        }

        static func unexpected(_ t: ExpressionToken) -> ExpressionSyntaxError {
            if case .end = t.kind {
                return ExpressionSyntaxError(message: "expression ends too early", offset: t.offset,
                                             hint: "complete the expression")
            }
            return ExpressionSyntaxError(message: "unexpected \(ExpressionParser.describe(t))", offset: t.offset,
                                         length: t.length)
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
                let node = field([word], from: t, end: t.offset + t.length)
                guard case .reference(.field(let path)) = node.kind, path.count > 1 else {
                    throw ExpressionParser.unknownName(word, offset: t.offset, length: t.length)
                }
                return node
            }
        }

        /// `path` and the `.NAME` segments after it, as long as a name follows each dot.
        mutating func field(_ path: [String], from start: ExpressionToken, end: Int) -> ExpressionNode {
            var path = path, end = end
            while isSymbol("."), case .identifier(let name) = tokens[min(index + 1, tokens.count - 1)].kind {
                _ = advance()
                let segment = advance()
                path.append(name)
                end = segment.offset + segment.length
            }
            return ExpressionNode(.reference(.field(path)), offset: start.offset, length: end - start.offset)
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
                return self.field(["steps", step.text, fieldName], from: t, end: field.offset + field.length)
            }
        }
    }
}

extension ExpressionParser {
    /// A bare word no expression starts with; also what the checker says of a field path
    /// (`foo.bar`) where no scope offers fields, as the parser said before fields existed.
    static func unknownName(_ word: String, offset: Int, length: Int) -> ExpressionSyntaxError {
        let hint = Suggestion.closest(to: word, in: ["params", "steps", "env", "true", "false", "null"])
            .map { "did you mean '\($0)'?" } ?? "quote text to make a string: \"\(word)\""
        return ExpressionSyntaxError(message: "unknown name '\(word)'", offset: offset, length: length, hint: hint)
    }

    /// `steps.X.NAME` other than `status` and `outputs`, where no scope offers fields.
    static func unknownStepField(_ name: String, offset: Int, length: Int) -> ExpressionSyntaxError {
        let hint = Suggestion.hint(for: name, in: ["status", "outputs"]) ?? "a step has 'status' and 'outputs'"
        return ExpressionSyntaxError(message: "steps have no field '\(name)'", offset: offset, length: length,
                                     hint: hint)
    }
}
