import RunnerTestSupport
import Testing
@testable import RunnerCore

@Suite struct ExpressionParserTests {
    func parse(_ text: String) -> Result<ParsedExpression, Diagnostic> {
        ExpressionParser.parse(SourceText(text, at: SourceLocation(file: "f", line: 3, column: 9)))
    }

    @Test(arguments: [
        "params.a", "!params.a", "params.a == \"x\"", "params.a != 'x' && params.b", "(params.a || params.b) && !params.c",
        "steps.build.status == \"succeeded\"", "steps.cdk-deploy.outputs.changed == \"true\"", "env.HOME == \"\"",
        "params.kind in [\"a\", \"b\"]", "[]", "1.5 == 1.5", "-2 == params.n", "null == params.x", "true", "'it\\'s' == params.s",
    ])
    func parses(_ text: String) {
        if case .failure(let d) = parse(text) { Issue.record("'\(text)': \(d.message)") }
    }

    @Test(arguments: [
        ("params.a = 1", 9, "unexpected '='"),
        ("params.a & params.b", 9, "unexpected '&'"),
        ("params.a and params.b", 9, "after the end"),
        ("params.", 7, "expected a param name"),
        ("steps.x", 7, "needs '.status'"),
        ("\"open", 0, "unterminated string"),
        ("params.a ==", 11, "ends too early"),
        ("foo == 1", 0, "unknown name 'foo'"),
        ("${{ params.a }}", 0, "'${'"),
        ("(params.a", 9, "expected ')'"),
        ("params.a == 1 == 2", 14, "cannot be chained"),
        ("", 0, "empty expression"),
        ("params.a < 3", 9, "ordering"),
        ("1abc", 0, "malformed number"),
    ])
    func rejectsWithLocation(_ text: String, _ offset: Int, _ fragment: String) throws {
        guard case .failure(let d) = parse(text) else { throw TestFailure("'\(text)' parsed") }
        #expect(d.code == .expressionSyntax)
        #expect(d.message.contains(fragment), "\(d.message)")
        #expect(d.location?.column == 9 + offset, "column for '\(text)'")
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "(", count: 200) + "true" + String(repeating: ")", count: 200)
        guard case .failure(let d) = parse(deep) else { Issue.record("deep nesting accepted"); return }
        #expect(d.message.contains("nests deeper"))
        let bangs = String(repeating: "!", count: 500) + "true"
        if case .success = parse(bangs) { Issue.record("500 bangs accepted") }
    }

    @Test func precedenceOrAndNot() throws {
        let e = try parse("!params.a || params.b && params.c").get()
        guard case .logical(.or, let operands) = e.root.kind, operands.count == 2 else { throw TestFailure("expected ||") }
        guard case .not = operands[0].kind, case .logical(.and, let ands) = operands[1].kind, ands.count == 2 else {
            throw TestFailure("wrong precedence")
        }
    }
}

@Suite struct ExpressionCheckerTests {
    let params: [String: ParamSpec] = [
        "force": Make.param("force", .bool),
        "kind": Make.param("kind", .enumeration(values: ["full", "fast"])),
        "targets": Make.param("targets", .list(.init(items: .enumeration(values: ["official", "appearance"])))),
        "name": Make.param("name", .string(.init())),
    ]

    func check(_ text: String, expecting: ExpressionType? = .bool, canRead: Bool = true) -> [Diagnostic] {
        let e = try! ExpressionParser.parse(SourceText(text, at: SourceLocation(file: "f", line: 1, column: 5))).get()
        let scope = ExpressionScope(
            params: params,
            steps: { name in name == "build" ? .init(outputs: ["changed"], isForEach: false)
                : name == "fan" ? .init(outputs: ["x"], isForEach: true) : nil },
            stepNames: ["build", "fan"], canRead: { _ in canRead }, allowsEnv: true, owner: "the `if` of step 't'")
        return ExpressionChecker.check(e, in: scope, expecting: expecting)
    }

    @Test(arguments: [
        "params.force", "params.force || steps.build.outputs.changed == \"true\"", "params.kind == \"full\"",
        "\"official\" in params.targets", "params.kind in [\"full\", \"fast\"]", "steps.build.status != \"failed\"",
        "!params.force", "params.name == null", "env.CI == \"true\"",
    ])
    func accepts(_ text: String) {
        #expect(check(text).isEmpty, "\(check(text).map(\.message))")
    }

    @Test(arguments: [
        ("params.forc", DiagnosticCode.unknownParam, Optional("did you mean 'force'?")),
        ("steps.biuld.status == \"failed\"", .unknownStep, "did you mean 'build'?"),
        ("steps.build.outputs.chnged == \"x\"", .unknownOutput, "did you mean 'changed'?"),
        ("steps.fan.outputs.x == \"1\"", .unknownOutput, nil),
        ("steps.build.status == \"success\"", .invalidComparison, "did you mean 'succeeded'?"),
        ("params.kind == \"ful\"", .invalidComparison, "did you mean 'full'?"),
        ("\"offical\" in params.targets", .invalidComparison, "did you mean 'official'?"),
        ("params.force == \"true\"", .expressionType, nil),
        ("params.name", .expressionType, nil),
        ("!params.name", .expressionType, nil),
        ("params.force && params.name", .expressionType, nil),
        ("params.name in params.name", .expressionType, nil),
    ])
    func rejects(_ text: String, _ code: DiagnosticCode, _ hint: String?) {
        let found = check(text)
        #expect(found.map(\.code).contains(code), "\(text): \(found.map { "\($0.code) \($0.message)" })")
        if let hint { #expect(found.contains { $0.hint == hint }, "\(found.map { $0.hint ?? "" })") }
    }

    @Test func readingAStepWithoutDependingOnItIsReported() {
        let found = check("steps.build.status == \"succeeded\"", canRead: false)
        #expect(found.map(\.code) == [.undeclaredDependency])
        #expect(found.first?.location?.column == 5)
    }

    @Test func forEachNeedsAList() {
        #expect(check("params.targets", expecting: .list).isEmpty)
        #expect(check("params.kind", expecting: .list).map(\.code) == [.expressionType])
    }

    @Test func locationPointsIntoTheExpression() {
        let found = check("params.force || params.nope")
        #expect(found.first?.location?.column == 5 + 16)
        #expect(found.first?.length == "params.nope".count)
    }
}

@Suite struct ExpressionEvaluatorTests {
    func eval(_ text: String, _ context: EvaluationContext) -> Value {
        let e = try! ExpressionParser.parse(SourceText(text, at: SourceLocation(file: "f", line: 1, column: 1))).get()
        return ExpressionEvaluator.evaluate(e.root, in: context)
    }

    let context = EvaluationContext(
        params: ["force": .bool(false), "kind": .string("full"), "n": .int(2), "targets": .list([.string("a"), .string("b")])],
        stepStatuses: ["build": .succeeded],
        stepOutputs: ["build": ["changed": "true"]],
        env: ["CI": "1"])

    @Test(arguments: [
        ("params.force || steps.build.outputs.changed == \"true\"", true),
        ("params.force", false), ("!params.force", true), ("params.kind == \"full\"", true),
        ("\"a\" in params.targets", true), ("\"c\" in params.targets", false), ("params.n == 2.0", true),
        ("steps.build.status == \"succeeded\"", true), ("steps.other.status == null", true),
        ("env.CI == \"1\"", true), ("env.MISSING == \"\"", true), ("params.unset == null", true), ("!params.unset", true),
        ("params.kind in [\"fast\", \"full\"]", true), ("params.force && (1 == 1)", false),
    ])
    func evaluates(_ text: String, _ expected: Bool) {
        #expect(eval(text, context) == .bool(expected), "\(text)")
    }
}

@Suite struct PartialEvaluationTests {
    func partial(_ text: String, _ params: [String: Value]) -> Value? {
        let e = try! ExpressionParser.parse(SourceText(text, at: SourceLocation(file: "f", line: 1, column: 1))).get()
        return ExpressionEvaluator.partiallyEvaluate(e.root, params: params)
    }

    @Test func paramsDecideWhatTheyCan() {
        let p: [String: Value] = ["force": .bool(true), "off": .bool(false), "kind": .string("full")]
        #expect(partial("params.force || steps.a.status == \"failed\"", p) == .bool(true))
        #expect(partial("params.off && steps.a.status == \"failed\"", p) == .bool(false))
        #expect(partial("params.off || steps.a.status == \"failed\"", p) == nil)
        #expect(partial("!(steps.a.outputs.x == \"1\")", p) == nil)
        #expect(partial("params.kind in [\"full\", \"fast\"]", p) == .bool(true))
        #expect(partial("env.CI == \"true\"", p) == nil)
    }
}
