import RunnerTestSupport
import Testing
@testable import RunnerCore

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-02-01", "2026-02-01T00:00:00Z"),
        ("2026-02-01T09:00:00+09:00", "2026-02-01T00:00:00Z"),
        ("2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z"),
        ("2026-02-01T00:30-01:30", "2026-02-01T02:00:00Z"),
        ("2026-02-01T00:00:00.25Z", "2026-02-01T00:00:00.250Z"),
        ("2024-02-29T23:59:59+0000", "2024-02-29T23:59:59Z"),
        ("1970-01-01T00:00:00+01:00", "1969-12-31T23:00:00Z"),
        ("2000-03-01 12:00:00Z", "2000-03-01T12:00:00Z"),
        ("2026-02-01T00:00:00.005Z", "2026-02-01T00:00:00.005Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ("2026-12-31T23:59:59+14:00", "2026-12-31T09:59:59Z"),
    ])
    func normalises(_ text: String, _ expected: String) throws {
        #expect(try Timestamp.normalize(text).get() == expected)
    }

    @Test(arguments: [
        "", "2026", "2026-13-01", "2026-02-30", "2025-02-29", "2026-02-01T25:00:00Z", "2026-02-01T09:00:00",
        "yesterday", "2026-02-01T09:00:00+9", "2026-02-01Tx", "2026-02-01T09:00:00Zjunk",
    ])
    func rejects(_ text: String) {
        if case .success(let v) = Timestamp.normalize(text) { Issue.record("'\(text)' accepted as \(v)") }
    }

    @Test func missingZoneHasHint() throws {
        guard case .failure(let e) = Timestamp.parse("2026-02-01T09:00:00") else { throw TestFailure("expected failure") }
        #expect(e.hint?.contains("Z") == true)
    }
}
