import Dispatch
import RunnerTestSupport
import Testing
@testable import RunnerCore

/// Long and deep expressions (issue 16, item 4): a flat chain of 10,000 `&&` once overflowed
/// the stack of `validate` and of the server. Within the bounds every expression is parsed,
/// checked and evaluated; beyond them it gets a diagnostic at the expression.
@Suite struct ExpressionBoundsTests {
    static let start = SourceLocation(file: "f", line: 2, column: 9)

    func parse(_ text: String) -> Result<ParsedExpression, Diagnostic> {
        ExpressionParser.parse(SourceText(text, at: Self.start))
    }

    static func makeScope() -> ExpressionScope {
        ExpressionScope(params: ["a": Make.param("a", .bool), "n": Make.param("n", .string(.init()))],
                        steps: nil, allowsEnv: true, owner: "the `if` of step 't'")
    }

    let scope = Self.makeScope()

    /// `true op true op ... op params.a`: 10,000 terms in about 60 KB, inside the size bound
    /// (`null` is false where a boolean is needed).
    static func chain(_ op: String, terms: Int, filler: String = "true") -> String {
        Array(repeating: filler, count: terms - 1).joined(separator: op) + op + "params.a"
    }

    @Test(arguments: ["&&", "||"])
    func tenThousandTermChainsParseCheckAndEvaluate(_ op: String) throws {
        let filler = op == "&&" ? "true" : "null"
        let text = Self.chain(op, terms: 10_000, filler: filler)
        #expect(text.utf8.count <= ExpressionParser.maxLength)
        let e = try parse(text).get()
        #expect(ExpressionChecker.check(e, in: scope, expecting: .bool).isEmpty)
        for a in [true, false] {
            #expect(ExpressionEvaluator.evaluate(e.root, in: EvaluationContext(params: ["a": .bool(a)])) == .bool(a))
            #expect(ExpressionEvaluator.partiallyEvaluate(e.root, params: ["a": .bool(a)]) == .bool(a))
        }
        #expect(e.root.references.map(\.reference) == [.param("a")])
        #expect(e == (try parse(text).get()))
    }

    @Test func aProblemInALongChainIsLocatedAtItsTerm() throws {
        let text = Self.chain("&&", terms: 9_000) + "&&params.nope"
        let found = ExpressionChecker.check(try parse(text).get(), in: scope, expecting: .bool)
        #expect(found.map(\.code) == [.unknownParam])
        #expect(found.first?.location?.column == Self.start.column + text.utf8.count - "params.nope".count)
    }

    @Test(arguments: [10_000, 100_000])
    func chainsBeyondTheSizeBoundAreRefusedAtTheExpression(_ terms: Int) throws {
        for op in [" && ", " || "] {
            let text = Array(repeating: "params.a", count: terms).joined(separator: op)
            guard case .failure(let d) = parse(text) else { throw TestFailure("\(terms) terms parsed") }
            #expect(d.code == .expressionTooLong)
            #expect(d.location == Self.start)
            #expect(d.message.contains("\(text.utf8.count)") && d.message.contains("65536"), "\(d.message)")
        }
    }

    @Test func theSizeBoundIsExact() {
        let longest = "params.a" + String(repeating: " ", count: ExpressionParser.maxLength - 8)
        #expect(longest.utf8.count == 65_536)
        if case .failure(let d) = parse(longest) { Issue.record("\(d.message)") }
        guard case .failure(let d) = parse(longest + " ") else { Issue.record("65,537 bytes parsed"); return }
        #expect(d.code == .expressionTooLong)
    }

    /// `(((...`, `[[[...` and `!!!...`: 64 levels are accepted; the 65th opener is reported,
    /// however deep the text goes on.
    @Test(arguments: [("(", ")"), ("[", "]"), ("!", "")])
    func nestingBeyondTheDepthBoundIsRefusedAtTheFirstLevelTooDeep(_ open: String, _ close: String) throws {
        func nested(_ depth: Int) -> String {
            String(repeating: open, count: depth) + "true" + String(repeating: close, count: depth)
        }
        if case .failure(let d) = parse(nested(64)) { Issue.record("64 levels of \(open): \(d.message)") }
        for depth in [65, 10_000] {
            guard case .failure(let d) = parse(nested(depth)) else { throw TestFailure("\(depth) levels of \(open) parsed") }
            #expect(d.code == .expressionTooDeep, "\(d.message)")
            #expect(d.location?.column == Self.start.column + 64, "\(depth) levels of \(open)")
            #expect(d.message.contains("64"))
        }
    }

    @Test func mixedChainsAndNestingAtTheBounds() throws {
        // 42 levels, alternately `false || params.a && true && (...)` and `!((...) == false)`:
        // 63 levels of nesting in all, with a chain at every other one.
        var text = "params.a"
        for level in 0..<42 {
            text = level % 2 == 0 ? "false || params.a && true && (\(text))" : "!(\(text)) == false"
        }
        let e = try parse(text).get()
        #expect(ExpressionChecker.check(e, in: scope, expecting: .bool).isEmpty)
        _ = ExpressionEvaluator.evaluate(e.root, in: EvaluationContext(params: ["a": .bool(true)]))
        // One flat chain of 7,000 terms, `&&` and `||` alternating, about 58 KB.
        let mixed = (0..<7_000).map { $0 % 3 == 0 ? "!params.a" : $0 % 3 == 1 ? "true" : "(null)" }
            .enumerated().map { $0.offset == 0 ? $0.element : ($0.offset % 2 == 0 ? "||" : "&&") + $0.element }.joined()
        let m = try parse(mixed).get()
        #expect(ExpressionChecker.check(m, in: scope, expecting: .bool).isEmpty)
        #expect(ExpressionEvaluator.evaluate(m.root, in: EvaluationContext(params: ["a": .bool(false)])) == .bool(true))
    }

    /// The recursion left is bounded by the nesting bound: the deepest expressions accepted, and
    /// the longest chains, go through every walk on a 512 KiB stack (the engine's event loop has
    /// 1 MiB; this is a debug build).
    @Test func theDeepestAndLongestExpressionsFitASmallStack() throws {
        let shapes = [
            String(repeating: "(true && ", count: 64) + "true" + String(repeating: ")", count: 64),
            String(repeating: "params.a == (true || false && ", count: 64) + "true" + String(repeating: ")", count: 64),
            String(repeating: "!(", count: 32) + "true" + String(repeating: ")", count: 32),
            "params.n in " + String(repeating: "[\"x\", ", count: 63) + "[\"y\"]" + String(repeating: "]", count: 63),
            Self.chain("&&", terms: 10_000), Self.chain("||", terms: 10_000, filler: "null"),
        ]
        let results = try Self.walkOnSmallStack(shapes, in: Self.makeScope)
        #expect(results.count == shapes.count)
        #expect(!results.contains { $0.contains("does not parse") }, "\(results)")
    }

    /// Each text through every walk (parse, check, evaluate, partial evaluation, hash, `==`,
    /// `references`) on a thread with a 512 KiB stack: for each, the problems the checker
    /// found and the type of its value, or that it does not parse.
    static func walkOnSmallStack(_ texts: [String],
                                 in makeScope: @escaping @Sendable () -> ExpressionScope) throws -> [String] {
        let done = DispatchSemaphore(value: 0)
        let results = Box()
        try Threads.start(stackSize: 512 << 10) {
            let scope = makeScope()
            for text in texts {
                guard case .success(let e) = ExpressionParser.parse(SourceText(text, at: Self.start)) else {
                    results.append("\(text.prefix(40)): does not parse")
                    continue
                }
                let found = ExpressionChecker.check(e, in: scope, expecting: nil)
                let value = ExpressionEvaluator.evaluate(e.root, in: EvaluationContext(params: ["a": .bool(true)]))
                _ = ExpressionEvaluator.partiallyEvaluate(e.root, params: [:])
                var hasher = Hasher()
                e.hash(into: &hasher)
                results.append("\(found.map(\.message)) \(value.typeName) \(e.root.references.count) \(e == e)")
            }
            done.signal()
        }
        done.wait()
        return results.items
    }

    /// Whatever values reach it (a stored run's params may predate a change of type), the
    /// evaluator answers a value and never traps.
    @Test func evaluationOfUnexpectedValuesNeverTraps() throws {
        let values: [Value?] = [nil, .null, .bool(true), .int(1), .int(Int.min), .number(.infinity), .string(""),
                                .list([]), .list([.list([.null])])]
        let texts = ["params.a", "!params.a", "params.a && params.a || params.a", "params.a == params.a",
                     "params.a != 1", "params.a in params.a", "params.a in [1, params.a]", "[params.a] == [params.a]"]
        for text in texts {
            let e = try parse(text).get()
            for value in values {
                let context = EvaluationContext(params: value.map { ["a": $0] } ?? [:])
                _ = ExpressionEvaluator.evaluate(e.root, in: context)
                _ = ExpressionEvaluator.partiallyEvaluate(e.root, params: context.params)
            }
        }
    }
}

/// Results written by another thread, read after it signalled.
private final class Box: @unchecked Sendable {
    private(set) var items: [String] = []
    private let lock = Lock()
    func append(_ item: String) { lock.withLock { items.append(item) } }
}
