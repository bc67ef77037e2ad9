import Foundation
import RunnerCore
import Testing
@testable import RunnerServer

/// The event stream's feed over a fake store and real log files: bounded polls, nothing lost
/// or repeated, a failing store retried then reported.
@Suite struct EventFeedTests {
    final class FakeSource: EventFeed.Source, @unchecked Sendable {
        var stored: StoredRun?
        var events: [RunEvent] = []
        var failuresLeft = 0

        init(_ stored: StoredRun?) { self.stored = stored }

        func load(_ run: RunID, definition: Bool) throws -> StoredRun? {
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw StoreBusy()
            }
            return stored
        }

        func events(of run: RunID, after id: Int64) throws -> [RunEvent] { events.filter { $0.id > id } }
    }

    struct StoreBusy: Error, CustomStringConvertible { var description: String { "database is locked" } }

    static let run = RunID("20261204-000000-000001")

    /// A run with one attempt of step `s` writing to `log`; finished (`status`) or in flight.
    static func stored(log: String?, status: RunStatus = .succeeded, finished: Bool = true) -> StoredRun {
        var record = RunRecord(id: run, pipeline: "p", pipelineFile: "p.yaml", definition: "", trigger: .api,
                               params: [:], parallelism: 1, createdAt: Date(timeIntervalSince1970: 0))
        record.status = status
        var attempt = AttemptRecord(step: StepName("s"), serial: 1, attempt: 1, startedAt: Date(timeIntervalSince1970: 0))
        attempt.logPath = log
        if finished { attempt.finishedAt = Date(timeIntervalSince1970: 1) }
        return StoredRun(run: record, steps: [], attempts: [attempt])
    }

    static func logFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).log").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let small = EventFeed.Limits(bytesPerPoll: 4096, bytesPerRead: 1024, storeFailures: 3)

    /// Polls until the end; returns the texts sent and the last one.
    static func drain(_ feed: inout EventFeed, _ source: FakeSource, polls: Int = 100_000) -> (sent: [String], end: String?) {
        var sent: [String] = []
        for _ in 0..<polls {
            switch feed.poll(source) {
            case .send(let text, _): sent.append(text)
            case .end(let text): return (sent, text)
            case .idle, .retry: return (sent, nil)
            }
        }
        return (sent, nil)
    }

    /// The `line` of every `event: log` in `texts`, in order.
    static func logLines(_ texts: [String]) -> [String] {
        texts.joined().components(separatedBy: "\n\n").compactMap { event in
            guard event.hasPrefix("event: log\ndata: "),
                  let json = try? JSONSerialization.jsonObject(with: Data(event.dropFirst("event: log\ndata: ".count).utf8)) as? [String: Any]
            else { return nil }
            return json["line"] as? String
        }
    }

    @Test func aLongLogIsSentWholeInPollsOfBoundedSize() throws {
        let lines = (0..<5000).map { "line \($0) of the log" }
        let path = try Self.logFile(Array((lines.joined(separator: "\n") + "\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var feed = EventFeed(run: Self.run, after: 0, limits: Self.small)
        let (sent, end) = Self.drain(&feed, FakeSource(Self.stored(log: path)))
        #expect(Self.logLines(sent) == lines, "every line once, in order")
        #expect(sent.count > 20, "in many polls")
        let budget = Self.small.bytesPerPoll + 6 * Self.small.bytesPerRead
        #expect(sent.allSatisfy { $0.utf8.count <= budget }, "no poll makes much more than its budget")
        #expect(end?.hasPrefix("event: end\ndata: {\"status\":\"succeeded\"}") == true)
    }

    @Test func aLineLongerThanAReadIsSentInPiecesThatKeepCharactersWhole() throws {
        let long = String(repeating: "é", count: 3000)   // 6,000 bytes, no newline
        let path = try Self.logFile(Array((long + "\nshort\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var feed = EventFeed(run: Self.run, after: 0, limits: Self.small)
        let lines = Self.logLines(Self.drain(&feed, FakeSource(Self.stored(log: path))).sent)
        #expect(lines.count > 2)
        #expect(lines.dropLast().joined() == long, "the pieces make the line, no character cut in two")
        #expect(lines.last == "short")
    }

    @Test func aPartialLastLineWaitsForItsEndOrForTheAttemptToFinish() throws {
        let path = try Self.logFile(Array("done\nhalf".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let source = FakeSource(Self.stored(log: path, status: .running, finished: false))
        var feed = EventFeed(run: Self.run, after: 0, limits: Self.small)
        guard case .send(let first, _) = feed.poll(source) else { Issue.record("expected the first line"); return }
        #expect(Self.logLines([first]) == ["done"])
        #expect(feed.poll(source) == .idle, "'half' has no newline yet")
        source.stored = Self.stored(log: path)
        let (sent, end) = Self.drain(&feed, source)
        #expect(Self.logLines(sent) == ["half"], "a finished attempt's last line is sent without its newline")
        #expect(end != nil)
    }

    @Test func transitionsPastThePollBudgetWaitForTheNextPoll() {
        let source = FakeSource(Self.stored(log: nil))
        source.events = (1...400).map { RunEvent(id: $0, at: Date(timeIntervalSince1970: 0), kind: "step", step: "s", status: "running", message: nil) }
        var feed = EventFeed(run: Self.run, after: 100, limits: Self.small)
        let (sent, end) = Self.drain(&feed, source)
        let ids = sent.joined().split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
        #expect(ids == Array(101...400), "after=100 resumes at 101; each transition once, in order")
        #expect(sent.count > 1)
        #expect(end != nil)
    }

    @Test func aFailingStoreIsRetriedWithBackoffNotTheEndOfTheStream() {
        let source = FakeSource(Self.stored(log: nil, status: .running, finished: false))
        source.events = [RunEvent(id: 1, at: Date(timeIntervalSince1970: 0), kind: "run", step: nil, status: "running", message: nil)]
        source.failuresLeft = 3
        var feed = EventFeed(run: Self.run, after: 0, limits: Self.small)
        #expect(feed.poll(source) == .retry(after: 0.2))
        #expect(feed.poll(source) == .retry(after: 0.4))
        #expect(feed.poll(source) == .retry(after: 0.8))
        guard case .send(let text, _) = feed.poll(source) else { Issue.record("the store is back: the transition is sent"); return }
        #expect(text.hasPrefix("id: 1\nevent: run\n"))
        #expect(feed.failures == 0)
        #expect(EventFeed.backoff(20) == 5, "at most 5 s between tries")
    }

    @Test func aStoreThatKeepsFailingEndsTheStreamWithAnError() {
        let source = FakeSource(Self.stored(log: nil, status: .running, finished: false))
        source.failuresLeft = 100
        var feed = EventFeed(run: Self.run, after: 7, limits: Self.small)
        var last: EventFeed.Poll = .idle
        for _ in 0...Self.small.storeFailures { last = feed.poll(source) }
        guard case .end(let text) = last else { Issue.record("expected the end, got \(last)"); return }
        #expect(text.hasPrefix("event: error\n"))
        #expect(text.contains("\"code\":\"RUN4004\""))
        #expect(text.contains("database is locked"))
        #expect(text.contains("Last-Event-ID: 7"), "the hint says where to resume")
    }

    @Test func aRunThatIsGoneEndsTheStreamWithAnError() {
        var feed = EventFeed(run: Self.run, after: 0, limits: Self.small)
        guard case .end(let text) = feed.poll(FakeSource(nil)) else { Issue.record("expected the end"); return }
        #expect(text.hasPrefix("event: error\n"))
        #expect(text.contains("\"code\":\"RUN4001\""))
    }

    @Test func whatIsSentOfAReadIsWholeLinesOrWholeCharacters() {
        #expect(EventFeed.sendable(Array("a\nb".utf8), isFull: true, isFinished: false) == 2)
        #expect(EventFeed.sendable(Array("ab".utf8), isFull: false, isFinished: false) == nil)
        #expect(EventFeed.sendable(Array("ab".utf8), isFull: false, isFinished: true) == 2)
        #expect(EventFeed.sendable(Array(Array("aé".utf8).dropLast()), isFull: true, isFinished: false) == 1, "half of é waits")
        #expect(EventFeed.sendable(Array("a€".utf8), isFull: true, isFinished: false) == 4)
        #expect(EventFeed.sendable(Array(Array("😀".utf8).dropLast()), isFull: true, isFinished: false) == nil)
    }
}
