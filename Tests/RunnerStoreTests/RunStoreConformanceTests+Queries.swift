import Foundation
import Testing
import RunnerCore
import RunnerStore
import RunnerTestSupport

/// Lists, finding a run by its id or a prefix, and what gc collects and deletes.
extension RunStoreConformanceTests {
    @Test(arguments: StoreBackend.all)
    func listingFiltersAndPagesNewestFirst(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        for n in 1...7 {
            try store.createRun(sampleRun("20261123-00000\(n)-000000", pipeline: n % 2 == 0 ? "even" : "odd"),
                                steps: [])
        }
        #expect(try store.runs(RunQuery(limit: 3)).map(\.id.rawValue) == ["20261123-000007-000000",
                                                                          "20261123-000006-000000",
                                                                          "20261123-000005-000000"])
        #expect(try store.runs(RunQuery(limit: 3, before: RunID("20261123-000005-000000"))).map(\.id.rawValue)
                == ["20261123-000004-000000", "20261123-000003-000000", "20261123-000002-000000"])
        #expect(try store.runs(RunQuery(before: RunID("20261123-000009-000000"))).isEmpty, "a cursor that names no run")
        #expect(try store.runs(RunQuery(pipeline: "even")).count == 3)
        #expect(try store.runs(RunQuery(statuses: [.running])).isEmpty)
        #expect(try store.runs(RunQuery(statuses: [.queued, .running], limit: 0)).count == 1, "at least one")
        #expect(try store.runs(RunQuery()).allSatisfy { $0.definition.isEmpty }, "lists come without definitions")
    }

    /// `RunQuery.actor`: only the runs that actor launched, with the other filters and paging.
    @Test(arguments: StoreBackend.all)
    func listingFiltersByActor(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        for (n, actor) in [(1, "alice"), (2, "bob"), (3, "alice"), (4, nil), (5, "alice")] as [(Int, String?)] {
            var run = sampleRun("20261123-00000\(n)-000000", pipeline: n == 5 ? "other" : "docs")
            run.actor = actor
            try store.createRun(run, steps: [])
        }
        func ids(_ query: RunQuery) throws -> [String] {
            try store.runs(query).map { String($0.id.rawValue.prefix(15).suffix(1)) }
        }
        #expect(try ids(RunQuery(actor: "alice")) == ["5", "3", "1"])
        #expect(try ids(RunQuery(pipeline: "docs", actor: "alice")) == ["3", "1"])
        #expect(try ids(RunQuery(limit: 1, before: RunID("20261123-000005-000000"), actor: "alice")) == ["3"])
        #expect(try ids(RunQuery(actor: "carol")).isEmpty)
        #expect(try ids(RunQuery(actor: "ALICE")).isEmpty, "compared exactly")
        #expect(try ids(RunQuery()).count == 5, "no actor: every run")
    }

    /// Runs created in the same second list by creation time first, then by id.
    @Test(arguments: StoreBackend.all)
    func listsOrderByCreationThenId(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        try store.createRun(sampleRun("20261123-000000-00000b", at: Date(timeIntervalSince1970: 1_000)), steps: [])
        try store.createRun(sampleRun("20261123-000000-00000a", at: Date(timeIntervalSince1970: 1_000.5)), steps: [])
        try store.createRun(sampleRun("20261123-000000-00000c", at: Date(timeIntervalSince1970: 1_000)), steps: [])
        func last(_ runs: [RunRecord]) -> [String] { runs.map { String($0.id.rawValue.suffix(1)) } }
        #expect(try last(store.runs(RunQuery())) == ["a", "c", "b"])
        #expect(try last(store.runs(RunQuery(before: RunID("20261123-000000-00000c")))) == ["b"])
    }

    /// `runs show 2026…`: the run with that id, else the only one whose id begins so.
    @Test(arguments: StoreBackend.all)
    func findByIdOrUniquePrefix(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        for id in ["20261123-053012-4f2a9c", "20261123-053012-4f2b00", "20261124-000000-abcdef",
                   "20261124-000000-abcdef1"] {
            try store.createRun(sampleRun(id), steps: [])
        }
        #expect(try store.findRun(idOrPrefix: "20261123-053012-4f2a9c")?.id.rawValue == "20261123-053012-4f2a9c")
        #expect(try store.findRun(idOrPrefix: "20261123-053012-4f2a")?.id.rawValue == "20261123-053012-4f2a9c")
        #expect(try store.findRun(idOrPrefix: "20261123-053012-4F2A")?.id.rawValue == "20261123-053012-4f2a9c",
                "ASCII case ignored")
        #expect(try store.findRun(idOrPrefix: "20261123-053012-4f2") == nil, "ambiguous")
        #expect(try store.findRun(idOrPrefix: "20261124-000000-abcdef")?.id.rawValue == "20261124-000000-abcdef",
                "a whole id, though it begins another")
        #expect(try store.findRun(idOrPrefix: "2026112_-053012-4f2a") == nil, "no wildcard")
        #expect(try store.findRun(idOrPrefix: "%") == nil)
        #expect(try store.findRun(idOrPrefix: "20261125") == nil)
        #expect(try store.findRun(idOrPrefix: "20261123-053012-4f2a")?.definition == "", "without its definition")
    }

    @Test(arguments: StoreBackend.all)
    func onlyFinishedRunsPastTheCutoffAreCollected(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        let old = Date(timeIntervalSince1970: 1_000)
        for (id, status) in [("20261123-000000-000001", RunStatus.succeeded), ("20261123-000000-000002", .running),
                             ("20261123-000000-000003", .failed), ("20261123-000000-000004", .skipped)] {
            try store.createRun(sampleRun(id, at: old), steps: sampleSteps)
            if status == .skipped { continue }
            try store.apply([.run(.running, at: old)], to: RunID(id))
            if status != .running {
                try store.apply([.run(status, at: id.hasSuffix("3") ? Date(timeIntervalSince1970: 9_000) : old + 1)],
                                to: RunID(id))
            }
        }
        try store.apply([.run(.skipped, at: old + 2)], to: RunID("20261123-000000-000004"))
        let collected = try store.finishedRuns(before: Date(timeIntervalSince1970: 5_000))
        #expect(collected.map(\.id.rawValue) == ["20261123-000000-000001", "20261123-000000-000004"], "oldest first")
        #expect(collected.first?.definition == "version: 1", "with its definition")
        #expect(try store.finishedRuns(before: Date(timeIntervalSince1970: 5_000), limit: 1).count == 1)
        #expect(try store.deleteFinishedRun(RunID("20261123-000000-000002")) == false, "a running run is never deleted")
        #expect(try store.deleteFinishedRun(RunID("20261123-000000-000001")) == true)
        #expect(try store.deleteFinishedRun(RunID("20261123-000000-000001")) == false, "deleted once")
        #expect(try store.load(RunID("20261123-000000-000001")) == nil)
        #expect(try store.events(of: RunID("20261123-000000-000001"), after: 0).isEmpty, "its events went with it")
        #expect(try store.load(RunID("20261123-000000-000002")) != nil)
    }
}
