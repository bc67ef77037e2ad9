import RunnerTestSupport
import Testing
@testable import RunnerCore

/// `+`, `??` and `c ? a : b` under the expression bounds: a long chain of any of them is one
/// node, parsed, checked and evaluated without recursion per term; only the middle of a
/// conditional nests, and counts toward the 64 levels.
@Suite struct ExpressionOperatorBoundsTests {
    static let start = SourceLocation(file: "f", line: 2, column: 9)

    static func makeScope() -> ExpressionScope {
        ExpressionScope(params: ["a": Make.param("a", .bool), "n": Make.param("n", .int(min: nil, max: nil))],
                        steps: nil, allowsEnv: true, owner: "the template")
    }

    func parse(_ text: String) throws -> ParsedExpression {
        try ExpressionParser.parse(SourceText(text, at: Self.start)).get()
    }

    /// 10,000 terms of `+`, 40 KB: one chain node, joined in one pass.
    @Test func tenThousandTermPlusChains() throws {
        let text = Array(repeating: "\"a\"", count: 9_999).joined(separator: "+") + "+params.n"
        #expect(text.utf8.count <= ExpressionParser.maxLength)
        let e = try parse(text)
        guard case .chain(.plus, let operands) = e.root.kind else { throw TestFailure("not one chain") }
        #expect(operands.count == 10_000)
        #expect(ExpressionChecker.check(e, in: Self.makeScope(), expecting: .string).isEmpty)
        let joined = String(repeating: "a", count: 9_999) + "7"
        #expect(ExpressionEvaluator.evaluate(e.root, in: EvaluationContext(params: ["n": .int(7)])) == .string(joined))
        #expect(ExpressionEvaluator.partiallyEvaluate(e.root, params: ["n": .int(7)]) == .string(joined))
        #expect(e == (try parse(text)))

        let numbers = try parse(Array(repeating: "1", count: 10_000).joined(separator: "+"))
        #expect(ExpressionChecker.check(numbers, in: Self.makeScope(), expecting: .number).isEmpty)
        #expect(ExpressionEvaluator.evaluate(numbers.root, in: EvaluationContext()) == .int(10_000))
    }

    @Test func tenThousandTermCoalesceChains() throws {
        let text = Array(repeating: "null", count: 9_999).joined(separator: "??") + "??params.n"
        #expect(text.utf8.count <= ExpressionParser.maxLength)
        let e = try parse(text)
        #expect(ExpressionChecker.check(e, in: Self.makeScope(), expecting: .number).isEmpty)
        #expect(ExpressionEvaluator.evaluate(e.root, in: EvaluationContext(params: ["n": .int(3)])) == .int(3))
        #expect(ExpressionEvaluator.partiallyEvaluate(e.root, params: [:]) == .null)
    }

    /// `false?1:false?1:...:params.n`, 7,000 branches in 56 KB: one conditional node.
    @Test func longConditionalChains() throws {
        let text = String(repeating: "false?1:", count: 7_000) + "params.n"
        #expect(text.utf8.count <= ExpressionParser.maxLength)
        let e = try parse(text)
        guard case .conditional(let branches, _) = e.root.kind else { throw TestFailure("not one conditional") }
        #expect(branches.count == 7_000)
        #expect(ExpressionChecker.check(e, in: Self.makeScope(), expecting: .number).isEmpty)
        #expect(ExpressionEvaluator.evaluate(e.root, in: EvaluationContext(params: ["n": .int(5)])) == .int(5))
        #expect(ExpressionEvaluator.partiallyEvaluate(e.root, params: ["n": .int(5)]) == .int(5))
    }

    /// `true ? true ? ... 1 : 2 : 2`: 64 middles are accepted, the 65th `?` is refused; a
    /// middle counts with parentheses, lists and `!`.
    @Test func conditionalMiddlesCountTowardTheNestingBound() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "true?", count: depth) + "1" + String(repeating: ":2", count: depth)
        }
        #expect(throws: Never.self) { try parse(nested(64)) }
        for depth in [65, 5_000] {
            guard case .failure(let d) = ExpressionParser.parse(SourceText(nested(depth), at: Self.start)) else {
                throw TestFailure("\(depth) middles parsed")
            }
            #expect(d.code == .expressionTooDeep)
            #expect(d.location?.column == Self.start.column + 64 * 5 + 4)
        }
        let mixed = String(repeating: "(true?", count: 32) + "1" + String(repeating: ":2)", count: 32)
        guard case .failure(let d) = ExpressionParser.parse(SourceText("!" + mixed, at: Self.start)) else {
            throw TestFailure("65 levels of ( ? ! parsed")
        }
        #expect(d.code == .expressionTooDeep)
        #expect(throws: Never.self) { try parse(mixed) }
    }

    /// The deepest shapes of the new operators, and their longest chains, go through every
    /// walk on a 512 KiB stack, as the `&&` shapes do (`ExpressionBoundsTests`).
    @Test func theDeepestAndLongestFitASmallStack() throws {
        let shapes = [
            String(repeating: "params.n ?? 1 + (params.a ? ", count: 32) + "1" + String(repeating: " : 2)", count: 32),
            String(repeating: "params.a ? (params.n + (", count: 21) + "1" + String(repeating: ")) : 2", count: 21),
            String(repeating: "true ? ", count: 64) + "1" + String(repeating: " : 2", count: 64),
            String(repeating: "(", count: 64) + "\"a\"" + String(repeating: " + \"b\") ?? \"c\"", count: 64),
            Array(repeating: "\"a\"", count: 10_000).joined(separator: "+"),
            Array(repeating: "null", count: 10_000).joined(separator: "??"),
            String(repeating: "false?1:", count: 7_000) + "2",
        ]
        let results = try ExpressionBoundsTests.walkOnSmallStack(shapes, in: Self.makeScope)
        #expect(results.count == shapes.count)
        #expect(results.allSatisfy { $0.hasPrefix("[]") }, "\(results)")
    }
}
