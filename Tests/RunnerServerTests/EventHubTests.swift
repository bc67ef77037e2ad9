import Foundation
import RunnerCore
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// The server's event streams on one thread (`EventHub`), over an in-memory store: each stream
/// gets exactly what its own feed made before, the store is read once per change of a run for
/// all its streams, a run executing here is read when the engine reports a change, and a
/// stalled client is fed nothing more.
@Suite struct EventHubTests {
    static let at = Date(timeIntervalSince1970: 1_767_225_600)

    /// A run of one step `s` whose attempt wrote `log` lines; finished unless `running`.
    static func run(in store: InMemoryRunStore, lines: Int, running: Bool = false) throws -> RunID {
        let id = RunID("20260101-000000-00000\(Int.random(in: 1...9))")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString).log").path
        try (0..<lines).map { "line \($0)\n" }.joined().write(toFile: log, atomically: false, encoding: .utf8)
        try store.createRun(RunRecord(id: id, pipeline: "p", pipelineFile: "p.yaml", definition: "", trigger: .api,
                                      params: [:], parallelism: 1, createdAt: at),
                            steps: [StepRecord(name: StepName("s"), step: "s", item: nil, section: "main",
                                               position: 0)])
        var attempt = AttemptRecord(step: StepName("s"), serial: 1, attempt: 1, startedAt: at)
        attempt.logPath = log
        try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: at),
                         .stepStatus(StepName("s"), .running, attempts: 1, serial: 1, retryAt: nil, errorCode: nil,
                                     message: nil, at: at),
                         .attemptStarted(attempt)], to: id)
        if !running { try finish(id, in: store) }
        return id
    }

    static func finish(_ id: RunID, in store: InMemoryRunStore) throws {
        try store.apply([.attemptFinished(StepName("s"), serial: 1, end: AttemptEnd(.exited(code: 0)), errorCode: nil,
                                          message: nil, counted: true, at: at),
                         .stepStatus(StepName("s"), .succeeded, attempts: 1, serial: 1, retryAt: nil, errorCode: nil,
                                     message: nil, at: at),
                         .runStatus(.succeeded, errorCode: nil, message: nil, wakeAt: nil, at: at)], to: id)
    }

    /// What a feed of its own makes of the run, read straight from the store, to its end or
    /// until it has nothing new.
    static func feedText(_ id: RunID, after: Int64 = 0, store: InMemoryRunStore) -> String {
        var feed = EventFeed(run: id, after: after)
        return drain(&feed, store: store)
    }

    static func drain(_ feed: inout EventFeed, store: InMemoryRunStore) -> String {
        var text = ""
        while true {
            switch feed.poll(EventFeed.StoreSource(store: store)) {
            case .send(let more, _): text += more
            case .end(let last): return text + last
            case .idle, .retry: return text
            }
        }
    }

    static func fast(isLocal: Bool = false) -> EventHub {
        var limits = EventHub.Limits()
        limits.pollInterval = 0.02
        limits.quietInterval = 3600
        return EventHub(limits: limits, isLocal: { _ in isLocal })
    }

    @Test func eachStreamGetsWhatItsFeedMakes() async throws {
        try await offPool {
            let store = InMemoryRunStore()
            let id = try Self.run(in: store, lines: 3000)
            let hub = Self.fast()
            let sinks = [FakeSink(), FakeSink()]
            for (sink, after) in zip(sinks, [0, 2] as [Int64]) {
                try hub.subscribe(id, after: after, store: store) { sink }
            }
            #expect(waitFor { sinks.allSatisfy(\.closed) }, "both streams ended with the run")
            #expect(sinks[0].text == Self.feedText(id, store: store))
            #expect(sinks[1].text == Self.feedText(id, after: 2, store: store))
            #expect(sinks[0].text.hasSuffix("event: end\ndata: {\"status\":\"succeeded\"}\n\n"))
            #expect(waitFor { hub.openStreams == 0 })
        }
    }

    @Test func theStoreIsReadOncePerChangeForEveryStream() async throws {
        try await offPool {
            let memory = InMemoryRunStore()
            let id = try Self.run(in: memory, lines: 2, running: true)
            let store = CountingRecords(memory)
            var reference = EventFeed(run: id, after: 0)
            var expected = Self.drain(&reference, store: memory)
            let hub = Self.fast(isLocal: true)
            let sinks = (0..<5).map { _ in FakeSink() }
            for sink in sinks { try hub.subscribe(id, after: 0, store: store) { sink } }
            #expect(waitFor { sinks.allSatisfy { $0.text.contains("line 1") } })
            Thread.sleep(forTimeInterval: 0.3)  // many polls of each stream
            #expect(store.loads == 1, "one read of the run for five streams")
            try Self.finish(id, in: memory)
            expected += Self.drain(&reference, store: memory)
            Thread.sleep(forTimeInterval: 0.3)
            #expect(sinks.allSatisfy { !$0.closed }, "a run executing here is not read without a reported change")
            hub.notify(id)
            #expect(waitFor { sinks.allSatisfy(\.closed) }, "the reported change ends every stream")
            #expect(store.loads == 2)
            #expect(sinks.allSatisfy { $0.text == expected }, "what a feed of its own sends, polled as the run went")
        }
    }

    @Test func aStalledStreamIsFedNothingMore() async throws {
        try await offPool {
            let store = InMemoryRunStore()
            let id = try Self.run(in: store, lines: 1, running: true)
            var limits = Self.fast().limits
            limits.behind = 16
            let hub = EventHub(limits: limits, isLocal: { _ in false })
            let stalled = FakeSink(), reader = FakeSink()
            stalled.stall()
            try hub.subscribe(id, after: 0, store: store) { stalled }
            try hub.subscribe(id, after: 0, store: store) { reader }
            #expect(waitFor { stalled.text.contains("line 0") && reader.text.contains("line 0") })
            let before = stalled.text
            try Self.finish(id, in: store)
            #expect(waitFor { reader.closed })
            #expect(stalled.text == before && !stalled.closed, "nothing is made while it has unsent bytes")
            stalled.leave()
            #expect(waitFor { stalled.closed && hub.openStreams == 0 }, "its client left: let go")
        }
    }

    @Test func streamsPastTheCapAreRefused() throws {
        let store = InMemoryRunStore()
        let id = try Self.run(in: store, lines: 0, running: true)
        var limits = EventHub.Limits()
        limits.maxStreams = 1
        let hub = EventHub(limits: limits, isLocal: { _ in false })
        let sink = FakeSink()
        try hub.subscribe(id, after: 0, store: store) { sink }
        #expect(throws: EventHub.Refusal.full(1)) {
            try hub.subscribe(id, after: 0, store: store) { Issue.record("not opened past the cap"); return nil }
        }
        sink.leave()
        #expect(waitFor { hub.openStreams == 0 })
        #expect(throws: EventHub.Refusal.cannotOpen) { try hub.subscribe(id, after: 0, store: store) { nil } }
        #expect(hub.openStreams == 0)
    }
}

/// The run records of a store, counting the reads of whole runs (`load`).
final class CountingRecords: RunRecordStore, @unchecked Sendable {
    let base: InMemoryRunStore
    private let lock = Lock()
    private var loadCount = 0

    init(_ base: InMemoryRunStore) { self.base = base }

    var loads: Int { lock.withLock { loadCount } }

    func load(_ run: RunID) throws -> StoredRun? {
        lock.withLock { loadCount += 1 }
        return try base.load(run)
    }

    func createRun(_ run: RunRecord, steps: [StepRecord]) throws { try base.createRun(run, steps: steps) }
    func createRun(_ run: RunRecord, steps: [StepRecord], unlessActiveIn group: String) throws -> RunRecord? {
        try base.createRun(run, steps: steps, unlessActiveIn: group)
    }
    func runs(_ query: RunQuery) throws -> [RunRecord] { try base.runs(query) }
    func findRun(idOrPrefix text: String) throws -> RunRecord? { try base.findRun(idOrPrefix: text) }
    func events(of run: RunID, after id: Int64) throws -> [RunEvent] { try base.events(of: run, after: id) }
    func activeRun(inGroup group: String, before run: RunRecord) throws -> RunRecord? {
        try base.activeRun(inGroup: group, before: run)
    }
    func finishedRuns(before cutoff: Date, limit: Int) throws -> [RunRecord] {
        try base.finishedRuns(before: cutoff, limit: limit)
    }
    func deleteFinishedRun(_ run: RunID) throws -> Bool { try base.deleteFinishedRun(run) }
}
