import RunnerTestSupport
import Testing
@testable import RunnerCore

/// `+`, `??` and `c ? a : b` (issue 18): precedence, types with locations, evaluation.
@Suite struct ExpressionOperatorTests {
    static let start = SourceLocation(file: "f", line: 1, column: 5)

    func parse(_ text: String) throws -> ParsedExpression {
        try ExpressionParser.parse(SourceText(text, at: Self.start)).get()
    }

    /// The tree as text, fully parenthesized, to compare shapes.
    func shape(_ node: ExpressionNode) -> String {
        switch node.kind {
        case .literal(let v): v.displayText
        case .reference(let r): r.description
        case .list(let items): "[" + items.map(shape).joined(separator: ", ") + "]"
        case .not(let operand): "!" + shape(operand)
        case .logical(let op, let operands): "(" + operands.map(shape).joined(separator: " \(op.rawValue) ") + ")"
        case .chain(let op, let operands): "(" + operands.map(shape).joined(separator: " \(op.rawValue) ") + ")"
        case .binary(let op, let l, let r): "(\(shape(l)) \(op.rawValue) \(shape(r)))"
        case .conditional(let branches, let otherwise):
            "(" + branches.map { "\(shape($0.condition)) ? \(shape($0.value)) : " }.joined() + shape(otherwise) + ")"
        }
    }

    @Test(arguments: [
        ("params.a ?? params.b + params.c", "(params.a ?? (params.b + params.c))"),
        ("params.x == \"a\" ? 1 : 2", "((params.x == \"a\") ? 1 : 2)"),
        ("\"x\" + params.a == \"xy\"", "((\"x\" + params.a) == \"xy\")"),
        ("params.a + params.b + params.c", "(params.a + params.b + params.c)"),
        ("params.a ?? params.b ?? params.c", "(params.a ?? params.b ?? params.c)"),
        ("params.c1 ? 1 : params.c2 ? 2 : 3", "(params.c1 ? 1 : params.c2 ? 2 : 3)"),
        ("params.c1 ? params.c2 ? 1 : 2 : 3", "(params.c1 ? (params.c2 ? 1 : 2) : 3)"),
        ("params.a || params.b ?? params.c", "((params.a || params.b) ?? params.c)"),
        ("params.a ?? params.b && params.c", "(params.a ?? (params.b && params.c))"),
        ("params.a && params.b || params.c ?? params.d && params.e || params.f",
         "(((params.a && params.b) || params.c) ?? ((params.d && params.e) || params.f))"),
        ("params.a ?? params.b ? 1 : 2", "((params.a ?? params.b) ? 1 : 2)"),
        ("!params.a ? 1 : 2", "(!params.a ? 1 : 2)"),
        ("params.n + 1 in [2, 3]", "((params.n + 1) in [2, 3])"),
        ("[params.a ? 1 : 2, 3]", "[(params.a ? 1 : 2), 3]"),
        ("params.a+params.b??'c'", "((params.a + params.b) ?? \"c\")"),
    ])
    func precedence(_ text: String, _ expected: String) throws {
        #expect(shape(try parse(text).root) == expected)
    }

    @Test func nodesSpanTheirOperands() throws {
        let e = try parse("(params.a + \"b\") ?? params.c ? 1 : 22")
        #expect(e.root.offset == 1 && e.root.length == 36)
        guard case .conditional(let branches, let otherwise) = e.root.kind,
              case .chain(.coalesce, let operands) = branches[0].condition.kind else {
            throw TestFailure("not a conditional over ??")
        }
        #expect(otherwise.offset == 35 && otherwise.length == 2)
        #expect(operands[0].offset == 1 && operands[0].length == 14)
    }

    @Test(arguments: [
        ("params.a ? 1", 12, "expected ':'"),
        ("params.a ? 1 :", 14, "ends too early"),
        ("params.a ? : 1", 11, "unexpected ':'"),
        (": 1", 0, "unexpected ':'"),
        ("params.a ??", 11, "ends too early"),
        ("params.a + + 1", 11, "unexpected '+'"),
        ("params.a ? 1 : 2 : 3", 17, "after the end"),
        ("1 + 2 == 3 == 4", 11, "cannot be chained"),
    ])
    func syntaxErrorsAreLocated(_ text: String, _ offset: Int, _ fragment: String) {
        guard case .failure(let d) = ExpressionParser.parse(SourceText(text, at: Self.start)) else {
            Issue.record("'\(text)' parsed")
            return
        }
        #expect(d.code == .expressionSyntax)
        #expect(d.message.contains(fragment), "\(text): \(d.message)")
        #expect(d.location?.column == Self.start.column + offset, "\(text): \(d.message)")
    }
}

@Suite struct ExpressionOperatorCheckTests {
    static let start = SourceLocation(file: "f", line: 1, column: 5)
    let scope = ExpressionScope(
        params: ["flag": Make.param("flag", .bool), "name": Make.param("name", .string(.init())),
                 "n": Make.param("n", .int(min: nil, max: nil)),
                 "list": Make.param("list", .list(.init(items: .string(.init()))))],
        steps: nil, allowsEnv: true, owner: "the template")

    func check(_ text: String, expecting: ExpressionType? = nil) throws -> [Diagnostic] {
        let e = try ExpressionParser.parse(SourceText(text, at: Self.start)).get()
        return ExpressionChecker.check(e, in: scope, expecting: expecting)
    }

    @Test(arguments: [
        ("params.name + params.n", ExpressionType.string), ("params.n + params.name", .string),
        ("params.n + 1.5", .number),
        ("\"x\" + params.flag", .string), ("null + \"x\"", .string), ("params.n + 1 + \"x\"", .string),
        ("params.name ?? \"default\"", .string), ("null ?? params.n", .number), ("null ?? null", .null),
        ("params.flag ? params.name : \"no\"", .string), ("params.flag ? null : 1", .number), ("null ? 1 : 2", .number),
        ("params.flag ? 1 : params.flag ? 2 : null", .number), ("params.list ?? []", .list),
        ("params.name == \"a\" ? true : params.flag", .bool), ("env.A + \"-\" + params.name", .string),
    ])
    func typesAreTheirOperands(_ text: String, _ type: ExpressionType) throws {
        let found = try check(text, expecting: type)
        #expect(found.isEmpty, "\(text): \(found.map(\.message))")
    }

    @Test(arguments: [
        ("params.name ?? params.n", 15, "both branches must be of one type: a string and a number"),
        ("params.flag ? \"a\" : 1", 20, "both branches must be of one type: a string and a number"),
        ("params.flag ? 1 : null ? 2 : \"x\"", 29, "both branches must be of one type: a number and a string"),
        ("params.name ? 1 : 2", 0, "the condition of '?' must be a boolean, but this is a string"),
        ("params.name + params.list", 14, "'+' joins strings or adds numbers, but this is a list"),
        ("params.list + 1", 0, "'+' joins strings or adds numbers, but this is a list"),
        ("params.n + params.flag", 11, "'+' joins strings or adds numbers, but this adds a boolean to a number"),
        ("true + true", 7, "'+' joins strings or adds numbers, but this adds a boolean to a boolean"),
    ])
    func typeErrorsAreLocatedAtTheOperand(_ text: String, _ offset: Int, _ message: String) throws {
        let found = try check(text)
        #expect(found.map(\.code) == [.expressionType], "\(text): \(found.map(\.message))")
        #expect(found.first?.message == message)
        #expect(found.first?.location?.column == Self.start.column + offset, "\(text)")
    }

    @Test func everyProblemIsCollected() throws {
        let found = try check("(params.n + true) ?? (params.nope ? 1 : \"a\")")
        #expect(found.map(\.code) == [.expressionType, .unknownParam, .expressionType], "\(found.map(\.message))")
    }

    @Test func aConditionalAsAnIfIsABoolean() throws {
        #expect(try check("params.flag ? params.n == 1 : false", expecting: .bool).isEmpty)
        #expect(try check("params.flag ?? false", expecting: .bool).isEmpty)
        #expect(try check("params.flag ? 1 : 2", expecting: .bool).map(\.code) == [.expressionType])
    }
}

@Suite struct ExpressionOperatorEvaluationTests {
    let context = EvaluationContext(
        params: ["name": .string("app"), "n": .int(2), "half": .number(0.5), "flag": .bool(true), "off": .bool(false),
                 "list": .list([.string("a")]), "big": .int(Int.max)],
        stepStatuses: ["build": .succeeded], env: ["A": "x"])

    func eval(_ text: String) throws -> Value {
        let e = try ExpressionParser.parse(SourceText(text, at: SourceLocation(file: "f", line: 1, column: 1))).get()
        return ExpressionEvaluator.evaluate(e.root, in: context)
    }

    @Test(arguments: [
        ("params.name + \"-\" + params.n", Value.string("app-2")), ("params.n + params.n", .int(4)),
        ("params.n + params.half", .number(2.5)), ("params.n + 1 + \"x\"", .string("3x")),
        ("\"x\" + 1 + 2", .string("x12")),
        ("\"v\" + params.flag + params.half", .string("vtrue0.5")), ("params.unset + \"x\"", .string("x")),
        ("\"x\" + params.unset", .string("x")), ("params.unset + 1", .null), ("params.list + \"x\"", .null),
        ("\"x\" + params.list", .null), ("params.big + 1", .number(Double(Int.max) + 1)), ("1.5 + 1.5", .number(3)),
        ("params.unset ?? params.name", .string("app")), ("params.name ?? params.unset", .string("app")),
        ("params.unset ?? null", .null), ("params.unset ?? params.unset2 ?? 3", .int(3)),
        ("params.off ?? true", .bool(false)),
        ("params.flag ? \"yes\" : \"no\"", .string("yes")), ("params.off ? \"yes\" : \"no\"", .string("no")),
        ("params.unset ? 1 : 2", .int(2)), ("params.off ? 1 : params.flag ? 2 : 3", .int(2)),
        ("params.off ? 1 : params.off ? 2 : 3", .int(3)), ("params.flag ? params.off ? 1 : 2 : 3", .int(2)),
        ("\"x\" + params.name == \"xapp\"", .bool(true)), ("params.name == \"app\" ? 1 : 2", .int(1)),
        ("steps.build.status == \"succeeded\" ? \"done\" : \"wait\"", .string("done")), ("env.A + env.B", .string("x")),
    ])
    func evaluates(_ text: String, _ expected: Value) throws {
        #expect(try eval(text) == expected, "\(text)")
    }

    @Test func partialEvaluationKnowsWhatParamsDecide() throws {
        func partial(_ text: String) throws -> Value? {
            let e = try ExpressionParser.parse(SourceText(text, at: ExpressionOperatorTests.start)).get()
            return ExpressionEvaluator.partiallyEvaluate(e.root, params: ["name": .string("a"), "flag": .bool(true)])
        }
        #expect(try partial("params.name + \"b\"") == .string("ab"))
        #expect(try partial("params.name + env.X") == nil)
        #expect(try partial("params.name ?? steps.a.status") == .string("a"))
        #expect(try partial("params.unset ?? steps.a.status") == nil)
        #expect(try partial("steps.a.status ?? params.name") == nil)
        #expect(try partial("params.flag ? 1 : steps.a.status") == .int(1))
        #expect(try partial("!params.flag ? steps.a.status : 2") == .int(2))
        #expect(try partial("steps.a.status == \"x\" ? 1 : 2") == nil)
    }
}
