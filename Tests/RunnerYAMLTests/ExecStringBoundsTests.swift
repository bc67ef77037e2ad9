import RunnerTestSupport
import Testing
import RunnerCore
@testable import RunnerYAML

/// Strings that reach `execve` (issue 16, item 13): Linux refuses an argv or envp string over
/// 131,072 bytes with its NUL (E2BIG), so a longer `run` validated and then failed at every
/// launch. Each is now refused when the file is loaded, at its value.
@Suite struct ExecStringBoundsTests {
    static let limit = 131_071

    func load(_ text: String) -> PipelineLoader.Result {
        PipelineLoader.load(bytes: Array(text.utf8), file: "p.yaml")
    }

    func found(_ text: String) -> [(code: DiagnosticCode, line: Int?, column: Int?, message: String)] {
        load(text).diagnostics.map { ($0.code, $0.location?.line, $0.location?.column, $0.message) }
    }

    @Test func aRunOfAtMostTheBoundIsValid() {
        let result = load("version: 1\nname: p\nsteps:\n  - name: a\n    run: \(String(repeating: "x", count: Self.limit))\n")
        #expect(result.isValid, "\(result.diagnostics.map(\.message))")
    }

    @Test func aLongerRunIsRefusedAtItsValue() {
        let run = String(repeating: "x", count: Self.limit + 1)
        let got = found("version: 1\nname: p\nsteps:\n  - name: a\n    run: \(run)\n")
        #expect(got.map(\.code) == [.execStringTooLong])
        #expect(got.first?.line == 5 && got.first?.column == 10)
        #expect(got.first?.message == "the `run` of step 'a' is 131072 bytes, longer than the 131071 bytes exec takes in one string")
        // A block scalar: counted as the script it is, located where it starts.
        let block = found("version: 1\nname: p\nsteps:\n  - name: a\n    run: |\n" + String(repeating: "      echo \(String(repeating: "y", count: 95))\n", count: 1_300))
        #expect(block.map(\.code) == [.execStringTooLong])
        #expect(block.first?.line == 5)
    }

    /// `NAME=value` is one envp string: the name and `=` count.
    @Test func anEnvEntryIsBoundedWithItsName() {
        let fits = String(repeating: "v", count: Self.limit - "BIG=".count)
        let valid = load("version: 1\nname: p\nenv:\n  BIG: \(fits)\nsteps:\n  - name: a\n    run: echo\n    env: {BIG: \(fits)}\n")
        #expect(valid.isValid, "\(valid.diagnostics.map(\.message))")
        let got = found("version: 1\nname: p\nenv:\n  BIG: \(fits)v\nsteps:\n  - name: a\n    run: echo\n    env: {BIG: \(fits)v}\n")
        #expect(got.map(\.code) == [.execStringTooLong, .execStringTooLong])
        #expect(got.map(\.line) == [4, 8])
        #expect(got.map(\.column) == [8, 16])
        #expect(got.first?.message == "the pipeline's env 'BIG' is 131072 bytes as BIG=value, longer than the 131071 bytes exec takes in one string")
    }

    @Test func aShellWordAndAForEachItemAreBounded() {
        let long = String(repeating: "z", count: Self.limit + 1)
        let got = found("""
        version: 1
        name: p
        defaults: {shell: [python3, \(long)]}
        steps:
          - name: a
            run: echo
            shell: \(long)
          - name: b
            run: echo
            for_each: [x, \(String(repeating: "i", count: Self.limit - 4))]
        """)
        #expect(got.map(\.code) == [.execStringTooLong, .execStringTooLong, .execStringTooLong])
        #expect(got.map(\.line) == [3, 7, 10])
        #expect(got.map(\.column) == [29, 12, 19])
        #expect(got.last?.message.hasPrefix("an item of the `for_each` of step 'b' is 131072 bytes as ITEM=value") == true)
    }

    /// `"\0"` in a double-quoted scalar is a NUL: exec would cut the string there, so the step
    /// would run a shorter script or see a shorter value than the file says.
    @Test func aNULIsRefusedWhereExecWouldCutTheString() {
        let got = found("""
        version: 1
        name: p
        env: {X: "a\\0b"}
        steps:
          - name: a
            run: "echo \\0 hi"
            for_each: ["x\\0"]
        """)
        #expect(got.map(\.code) == [.execStringHasNUL, .execStringHasNUL, .execStringHasNUL])
        #expect(got.map(\.line) == [3, 6, 7])
        #expect(got.map(\.column) == [10, 10, 16])
        #expect(got.first?.message == "the pipeline's env 'X' holds a NUL character, where exec would cut it short")
    }
}
