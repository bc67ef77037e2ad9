import RunnerTestSupport
import Testing
@testable import RunnerCore

/// Field paths (`run.id`, `steps.X.progress`): parsed everywhere, read only where a scope
/// offers them (API contract templates); elsewhere reported as the parser reported them.
@Suite struct ExpressionFieldTests {
    static let start = SourceLocation(file: "f", line: 1, column: 5)

    func parse(_ text: String) throws -> ParsedExpression {
        try ExpressionParser.parse(SourceText(text, at: Self.start)).get()
    }

    static let runFields: [String: ExpressionType] = [
        "run.id": .string, "run.created_at": .string, "run.progress": .number, "run.retryable": .bool,
        "request.path.jobId": .string, "steps.build.progress": .number,
    ]

    func scope(fields: [String: ExpressionType]?) -> ExpressionScope {
        var scope = ExpressionScope(params: ["name": Make.param("name", .string(.init()))],
                                    steps: { $0 == "build" ? .init(outputs: ["changed"], isForEach: false) : nil },
                                    stepNames: ["build"], allowsEnv: false, owner: "the `if` of step 't'")
        if let fields {
            scope.fields = { fields[$0.joined(separator: ".")] }
            scope.fieldNames = fields.keys.sorted()
        }
        return scope
    }

    func check(_ text: String, fields: [String: ExpressionType]? = Self.runFields,
               expecting: ExpressionType? = nil) throws -> [Diagnostic] {
        ExpressionChecker.check(try parse(text), in: scope(fields: fields), expecting: expecting)
    }

    @Test(arguments: [
        ("run.id", ["run", "id"]), ("run.created_at", ["run", "created_at"]),
        ("request.path.jobId", ["request", "path", "jobId"]),
        ("instance.outputs.release", ["instance", "outputs", "release"]),
        ("error.message", ["error", "message"]), ("steps.snapshot.progress", ["steps", "snapshot", "progress"]),
        ("steps.cdk-deploy.progress_message", ["steps", "cdk-deploy", "progress_message"]),
        ("run . id", ["run", "id"]), ("steps.x.result.more", ["steps", "x", "result", "more"]),
    ])
    func dottedPathsAreFields(_ text: String, _ path: [String]) throws {
        let e = try parse(text)
        #expect(e.root.kind == .reference(.field(path)), "\(text)")
        #expect(e.root.offset == 0 && e.root.length == text.count)
        #expect(Reference.field(path).description == path.joined(separator: "."))
    }

    @Test func theKnownReferencesStayWhatTheyWere() throws {
        #expect(try parse("steps.a.status").root.kind == .reference(.stepStatus("a")))
        #expect(try parse("steps.a.outputs.x").root.kind == .reference(.stepOutput(step: "a", output: "x")))
        #expect(try parse("params.a").root.kind == .reference(.param("a")))
        #expect(try parse("env.A").root.kind == .reference(.env("A")))
        #expect(Reference.field(["steps", "a", "progress"]).stepName == "a")
        #expect(Reference.field(["run", "id"]).stepName == nil)
    }

    /// A bare word, or a root with a dot and no name after it, is refused by the parser as before.
    @Test(arguments: [("foo", 0), ("run.", 0), ("run.1", 0), ("params.a.b", 8), ("steps.a.status.x", 14)])
    func notAPathIsStillASyntaxError(_ text: String, _ offset: Int) {
        guard case .failure(let d) = ExpressionParser.parse(SourceText(text, at: Self.start)) else {
            Issue.record("'\(text)' parsed")
            return
        }
        #expect(d.code == .expressionSyntax)
        #expect(d.location?.column == Self.start.column + offset, "\(text): \(d.message)")
    }

    @Test func withoutFieldsAPathIsReportedAsTheParserDidBefore() throws {
        let run = try check("params.name == \"a\" || run.id == \"x\"", fields: nil)
        #expect(run.map(\.code) == [.expressionSyntax])
        #expect(run.first?.message == "the `if` of step 't': unknown name 'run'")
        #expect(run.first?.hint == "quote text to make a string: \"run\"")
        #expect(run.first?.location?.column == Self.start.column + 22)
        #expect(run.first?.length == 3)

        let typo = try check("stpes.build.status == \"x\"", fields: nil)
        #expect(typo.first?.message == "the `if` of step 't': unknown name 'stpes'")
        #expect(typo.first?.hint == "did you mean 'steps'?")
    }

    /// Moved from the parser's tests: `steps.x.result` parses now, and is refused by the checker
    /// with the code, column and words the parser used.
    @Test(arguments: [
        ("steps.x.result", 8, "steps have no field 'result'", "a step has 'status' and 'outputs'"),
        ("steps . build . statuss == \"a\"", 16, "steps have no field 'statuss'", "did you mean 'status'?"),
        ("steps.build.progress", 12, "steps have no field 'progress'", "a step has 'status' and 'outputs'"),
    ])
    func withoutFieldsAStepFieldIsReportedAtItsName(_ text: String, _ offset: Int, _ message: String,
                                                    _ hint: String) throws {
        let found = try check(text, fields: nil)
        #expect(found.map(\.code) == [.expressionSyntax])
        #expect(found.first?.message == "the `if` of step 't': \(message)")
        #expect(found.first?.hint == hint)
        #expect(found.first?.location?.column == Self.start.column + offset)
        #expect(found.first?.length == message.split(separator: "'")[1].count)
    }

    @Test func aScopeWithFieldsTypesThem() throws {
        #expect(try check("run.id + \" at \" + run.created_at", expecting: .string).isEmpty)
        #expect(try check("run.progress", expecting: .number).isEmpty)
        #expect(try check("run.retryable", expecting: .bool).isEmpty)
        #expect(try check("steps.build.progress ?? 0", expecting: .number).isEmpty)
        #expect(try check("run.progress", expecting: .string).map(\.code) == [.expressionType])
        #expect(try check("run.retryable ? run.id : request.path.jobId", expecting: .string).isEmpty)
    }

    @Test func anUnknownFieldIsLocatedAndSuggestsTheNearest() throws {
        let found = try check("run.id + run.creatd_at")
        #expect(found.map(\.code) == [.expressionSyntax])
        #expect(found.first?.message == "unknown field 'run.creatd_at' in the `if` of step 't'")
        #expect(found.first?.hint == "did you mean 'run.created_at'?")
        #expect(found.first?.location?.column == Self.start.column + 9)
        #expect(found.first?.length == "run.creatd_at".count)
    }

    @Test func anUnknownFieldWithNothingNearListsTheFieldsOfItsRoot() throws {
        let found = try check("run.owner_name")
        #expect(found.first?.hint == "fields here: run.created_at, run.id, run.progress, run.retryable")
        let other = try check("nothing.here")
        #expect(other.first?.hint?.hasPrefix("fields here: request.path.jobId, run.created_at") == true)
        #expect(try check("rn.id").first?.hint == "did you mean 'run.id'?")
        #expect(try check("request.path.jobID").first?.hint == "did you mean 'request.path.jobId'?")
        let none = try check("run.id", fields: [:])
        #expect(none.first?.hint == "the `if` of step 't' offers no fields")
    }

    @Test func fieldsAreEvaluatedByTheirDottedPath() throws {
        let context = EvaluationContext(params: ["name": .string("n")],
                                        fields: ["run.id": .string("42"), "steps.build.progress": .int(50)])
        func eval(_ text: String) throws -> Value { ExpressionEvaluator.evaluate(try parse(text).root, in: context) }
        #expect(try eval("run.id") == .string("42"))
        #expect(try eval("steps.build.progress + 1") == .int(51))
        #expect(try eval("run.missing") == .null)
        #expect(try eval("run.missing ?? params.name") == .string("n"))
        #expect(ExpressionEvaluator.partiallyEvaluate(try parse("run.id").root, params: [:]) == nil)
        #expect(ExpressionEvaluator.partiallyEvaluate(try parse("run.id ?? \"x\"").root, params: [:]) == nil)
        let references = try parse("run.id == params.name").root.references.map(\.reference)
        #expect(references == [.field(["run", "id"]), .param("name")])
    }
}
