import Foundation
import Testing
@testable import RunnerCore

/// What the runner does itself since it is built on FoundationEssentials: regular expressions
/// (Swift Regex), trimming, JSON of no fixed shape, locks, conditions and threads.
@Suite struct RegularExpressionTests {
    @Test func wholeMatchIsOfTheWholeValue() throws {
        let regex = try RegularExpression("[a-z][a-z0-9-]*")
        #expect(regex.matchesWhole("docs-2"))
        #expect(!regex.matchesWhole("docs 2"))
        #expect(!regex.matchesWhole("Docs"))
        #expect(!regex.matchesWhole(""))
        #expect(ParamResolver.matchesWhole("abc", pattern: "a.c"))
        #expect(!ParamResolver.matchesWhole("abcd", pattern: "a.c"))
        #expect(!ParamResolver.matchesWhole("abc", pattern: "("))  // invalid: never matches
    }

    @Test func foundAnywhereForStderr() throws {
        let regex = try RegularExpression("rate.?limit|\\b429\\b")
        #expect(regex.isFound(in: "upstream: HTTP 429 Too Many Requests\n"))
        #expect(regex.isFound(in: "error: rate limit exceeded"))
        #expect(!regex.isFound(in: "HTTP 4290"))
        #expect(try RegularExpression("(?i)QUOTA").isFound(in: "daily quota exhausted"))
    }

    @Test func matchesByUnicodeScalarAsICUDid() throws {
        // "é" written as e + combining acute is two scalars: `.` takes one of them.
        #expect(try RegularExpression("e.").matchesWhole("e\u{301}"))
        #expect(try RegularExpression("\\p{L}+").matchesWhole("東京"))
    }

    @Test(arguments: [
        ("[a-z", "expected ']'"),
        ("rate (limit", "expected ')'"),
        ("(?<=a)b", "lookbehind is not currently supported"),
        ("x{2,1}", "range lower bound '2' must be less than or equal to upper bound '1'"),
        ("", "it is empty"),
    ])
    func problemsAreTheEnginesWords(pattern: String, problem: String) {
        #expect(RegularExpression.problem(in: pattern) == problem)
        #expect((try? RegularExpression(pattern)) == nil)
    }

    @Test func validPatternsHaveNoProblem() {
        for pattern in ["^[A-Za-z0-9_-]+$", "\\d{3}", "(?<name>x)\\k<name>", "(?!x).*", "a++", "(?>a)"] {
            #expect(RegularExpression.problem(in: pattern) == nil, "\(pattern)")
        }
    }
}

@Suite struct TrimmingTests {
    @Test func spacesAndTabsOnly() {
        #expect("  \t42 \t".trimmingSpaces() == "42")
        #expect("\u{3000}全角\u{00A0}".trimmingSpaces() == "全角")   // ideographic and no-break space are Zs
        #expect("\n42\n".trimmingSpaces() == "\n42\n")              // line breaks stay, as with .whitespaces
        #expect("   ".trimmingSpaces() == "")
        #expect("a b".trimmingSpaces() == "a b")
        #expect("  x ".dropFirst().trimmingSpaces() == "x")         // substrings too
    }

    @Test func whitespaceAndNewlines() {
        #expect(" \r\n rnr_token\n\u{2028}".trimmingWhitespace() == "rnr_token")
        #expect("\u{85}x\u{0B}\u{0C}".trimmingWhitespace() == "x")
        #expect("\n\n".trimmingWhitespace() == "")
    }
}

@Suite struct JSONValueTests {
    @Test func parsesEveryKindAndKeepsIntegers() throws {
        let value = try #require(JSONValue.parse(Array(#"{"a": 1, "b": 1.5, "c": "x", "d": [true, null], "e": {}}"#.utf8)))
        #expect(value["a"] == .int(1))
        #expect(value["a"]?.int == 1)
        #expect(value["b"] == .number(1.5))
        #expect(value["b"]?.int == nil)
        #expect(value["c"]?.string == "x")
        #expect(value["d"]?.array == [.bool(true), .null])
        #expect(value["e"]?.object == [:])
        #expect(value["missing"] == nil)
        #expect(JSONValue.string("x")["a"] == nil)
    }

    @Test func rejectsWhatIsNotJSON() {
        #expect(JSONValue.parse(Array("{".utf8)) == nil)
        #expect(JSONValue.parse(Array("{'a': 1}".utf8)) == nil)
        #expect(JSONValue.parse([]) == nil)
    }

    @Test func encodesWithSortedKeys() {
        let value = JSONValue.object(["params": .object(["n": .int(3), "list": .array([.string("a/b"), .number(0.5)])]),
                                      "trigger": .string("hook"), "x": .null, "y": .bool(false)])
        #expect(String(decoding: value.encoded(), as: UTF8.self)
                == #"{"params":{"list":["a/b",0.5],"n":3},"trigger":"hook","x":null,"y":false}"#)
        #expect(JSONValue.parse(value.encoded()) == value)
    }
}

@Suite struct ConcurrencyPrimitivesTests {
    final class Box: @unchecked Sendable { var count = 0; var done = 0 }

    @Test func aLockSerialisesThreads() throws {
        let lock = Lock(), condition = Condition(), box = Box()
        for _ in 0..<4 {
            try Threads.start(stackSize: 64 << 10) {
                for _ in 0..<10_000 { lock.withLock { box.count += 1 } }
                condition.lock()
                box.done += 1
                condition.broadcast()
                condition.unlock()
            }
        }
        condition.lock()
        while box.done < 4 { condition.wait() }
        condition.unlock()
        #expect(lock.withLock { box.count } == 40_000)
    }

    @Test func aRecursiveLockIsTakenTwiceByItsHolder() {
        let lock = Lock(recursive: true)
        let value = lock.withLock { lock.withLock { 7 } }
        #expect(value == 7)
    }

    @Test func aTimedWaitAnswersFalseAfterItsDeadline() {
        let condition = Condition()
        let start = Monotonic.now()
        condition.lock()
        let signalled = condition.wait(seconds: 0.05)
        condition.unlock()
        #expect(!signalled)
        #expect(start.elapsed >= 0.045)
    }

    @Test func theSteadyClockMovesWithTheMonotonicClockOnly() {
        let wall = Date(timeIntervalSince1970: 1_000_000)
        let clock = SteadyClock(wall: wall, start: Monotonic.now() + -2)
        let now = clock.now()
        #expect(now.timeIntervalSince(wall) >= 2 && now.timeIntervalSince(wall) < 3, "the wall time at the start, plus 2 s since")
        #expect(clock.delay(until: wall) == 0)
        #expect(clock.delay(until: wall.addingTimeInterval(10)) <= 8)
    }

    @Test func aThreadKnowsItIsCurrent() throws {
        let condition = Condition(), box = Box()
        condition.lock()
        let thread = try Threads.start {
            Threads.sleep(seconds: 0.01)
            condition.lock()
            box.done = 1
            condition.signal()
            condition.unlock()
        }
        while box.done == 0 { condition.wait() }
        condition.unlock()
        #expect(!Threads.isCurrent(thread))
        #expect(Threads.isCurrent(pthread_self()))
    }

    /// A thread the system cannot make (here a 64 TB stack) is an error from `start`, which the
    /// caller handles (the core neither prints nor exits); its body never runs.
    @Test func startThrowsWhenNoThreadCanBeMade() {
        let box = Box()
        #expect(throws: ThreadStartError.self) { try Threads.start(stackSize: 1 << 46) { box.done = 2 } }
        #expect(box.done == 0)
    }

    /// A thread the system cannot make (here a 64 TB stack) is nil from `tryStart`, its body
    /// never run; one it can make runs.
    @Test func tryStartAnswersNilWhenNoThreadCanBeMade() {
        let box = Box()
        #expect(Threads.tryStart(stackSize: 1 << 46) { box.done = 2 } == nil)
        let condition = Condition()
        condition.lock()
        let started = Threads.tryStart {
            condition.lock()
            box.done = 1
            condition.signal()
            condition.unlock()
        }
        #expect(started != nil)
        while box.done == 0 { condition.wait() }
        condition.unlock()
        #expect(box.done == 1)
    }
}
