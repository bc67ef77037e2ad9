import FoundationEssentials
import RunnerCore
import Testing

/// Timestamps in the patterns the seeds write.
@Suite struct TimeFormatTests {
    static let instant = Date(timeIntervalSince1970: 1_455_179_528.045)  // 2016-02-11T08:32:08.045Z

    static func format(_ pattern: String, _ date: Date = instant) throws -> String {
        try TimeFormat.parse(pattern).mapError { _ in TestFailure() }.get().format(date)
    }

    struct TestFailure: Error {}

    @Test(arguments: [
        ("yyyy-MM-dd'T'HH:mm:ss.SSSxxx", "2016-02-11T08:32:08.045+00:00"),  // Belayer (003)
        ("yyyy-MM-dd'T'HH:mm:ssxxx", "2016-02-11T08:32:08+00:00"),  // Heroku (001)
        ("yyyy-MM-dd HH:mm:ss.SSSxxx", "2016-02-11 08:32:08.045+00:00"),  // Belayer dump/load
        ("yyyy-MM-dd'T'HH:mm:ssXXX", "2016-02-11T08:32:08Z"),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "2016-02-11T08:32:08.045000Z"),
        ("HH:mm 'h' HH''mm", "08:32 h 08'32"),
        ("rfc3339", "2016-02-11T08:32:08.045Z"),
    ])
    func patterns(pattern: String, expected: String) throws {
        #expect(try Self.format(pattern) == expected)
    }

    @Test func beforeTheEpochAndAtALeapDay() throws {
        #expect(try Self.format("yyyy-MM-dd'T'HH:mm:ss.SSS", Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500")
        #expect(try Self.format("yyyy-MM-dd", Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29")
    }

    @Test(arguments: ["yyyy-MM-dd'T", "YYYY-MM-dd", "yyyy-MM-dd'T'HH:mm:ssZ", "yy-MM-dd"])
    func unreadablePatternsSayWhere(pattern: String) {
        guard case .failure(let problem) = TimeFormat.parse(pattern) else {
            Issue.record("\(pattern) was accepted")
            return
        }
        #expect(problem.offset >= 0 && problem.offset < pattern.count)
    }
}
