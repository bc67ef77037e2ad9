import Testing
import RunnerTestSupport
@testable import RunnerCore

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("500ms", 500), ("30s", 30_000), ("2m", 120_000), ("1h30m", 5_400_000), ("3d", 259_200_000),
        ("1d2h3m4s5ms", 93_784_005), ("0s", 0),
    ])
    func parses(_ text: String, _ milliseconds: Int64) throws {
        let d = try DurationText.parse(text).get()
        #expect(DurationText.milliseconds(d) == milliseconds)
    }

    @Test(arguments: ["", "5", "1x", "1s2m", "1m30", "m", "1h1h", "-1s", "1.5s", "366d", "99999999999999s"])
    func rejects(_ text: String) {
        guard case .failure = DurationText.parse(text) else {
            Issue.record("'\(text)' should be rejected")
            return
        }
    }

    @Test func numberWithoutUnitSuggestsOne() throws {
        guard case .failure(let e) = DurationText.parse("10") else { throw TestFailure("expected failure") }
        #expect(e.hint?.contains("10s") == true)
    }

    @Test func misspeltUnitIsSuggested() throws {
        guard case .failure(let e) = DurationText.parse("10sec") else { throw TestFailure("expected failure") }
        #expect(e.message.contains("sec"))
    }

    @Test(arguments: [("1h30m", "1h30m"), ("90m", "1h30m"), ("1500ms", "1s500ms"), ("0s", "0s"), ("2d", "2d")])
    func formatsCanonically(_ text: String, _ expected: String) throws {
        #expect(DurationText.format(try DurationText.parse(text).get()) == expected)
    }
}

