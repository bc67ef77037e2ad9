import Foundation
import Testing
import RunnerCore
@testable import RunnerStore

func temporaryStore() throws -> (SQLiteRunStore, URL) {
    let dir = try temporaryDirectory("store")
    return (try SQLiteRunStore(path: dir.appendingPathComponent("state.db").path), dir)
}

/// A directory of a test's own (the test removes it).
func temporaryDirectory(_ prefix: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// A database as a runner at schema `version` left it: every migration up to it, recorded.
func database(atSchema version: Int, path: String) throws -> Database {
    let db = try Database(path: path)
    try db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    for migration in Migrations.all where migration.version <= version {
        try db.execute(migration.sql)
        try db.execute("INSERT INTO schema_migrations VALUES (\(migration.version), 0)")
    }
    return db
}

/// Tables (columns, keys, defaults), indexes, foreign keys and triggers, one line each.
func describeSchema(_ db: Database) throws -> [String] {
    func rows(_ sql: String) throws -> [String] {
        let columns = sql.components(separatedBy: " FROM ")[0].split(separator: ",").count
        return try db.query(sql).map { row in (0..<columns).map { row.string($0) ?? "NULL" }.joined(separator: "|") }
    }
    let tables = try db.query("""
        SELECT name, sql LIKE '%WITHOUT ROWID%' FROM sqlite_master
        WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name
        """)
    var lines: [String] = []
    for table in tables {
        let name = table.string(0) ?? ""
        lines.append("table \(name) without-rowid=\(table.bool(1))")
        lines += try rows("SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo('\(name)')").map { "  column \($0)" }
        lines += try rows("SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete, \"match\" FROM pragma_foreign_key_list('\(name)')").map { "  fk \($0)" }
        for index in try db.query("SELECT name, \"unique\", origin, partial FROM pragma_index_list('\(name)') ORDER BY name") {
            let indexName = index.string(0) ?? ""
            lines.append("  index \(indexName) unique=\(index.string(1) ?? "") origin=\(index.string(2) ?? "") partial=\(index.string(3) ?? "")")
            lines += try rows("SELECT seqno, cid, name, \"desc\", coll, \"key\" FROM pragma_index_xinfo('\(indexName)')").map { "    \($0)" }
        }
    }
    lines += try db.query("SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') AND sql IS NOT NULL ORDER BY name").map {
        "\($0.string(0) ?? "") " + ($0.string(1) ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
    return lines
}

func sampleRun(_ id: String = "20261123-000000-000001", pipeline: String = "docs", at: Date = Date(timeIntervalSince1970: 1_000)) -> RunRecord {
    RunRecord(id: RunID(id), pipeline: pipeline, pipelineFile: "p.yaml", definition: "version: 1", trigger: .cli,
              params: ["targetRef": .string("main"), "n": .int(3)], parallelism: 2, createdAt: at)
}

let sampleSteps = [
    StepRecord(name: "build", step: "build", item: nil, section: "main", position: 0),
    StepRecord(name: "promote[a]", step: "promote", item: "a", section: "main", position: 1),
]

@Suite struct SQLiteRunStoreTests {
    @Test func createAndLoadARun() throws {
        let (store, _) = try temporaryStore()
        try store.createRun(sampleRun(), steps: sampleSteps)
        let loaded = try #require(try store.load(RunID("20261123-000000-000001")))
        #expect(loaded.run.status == .queued)
        #expect(loaded.run.params["n"] == .int(3))
        #expect(loaded.steps.map(\.name.rawValue) == ["build", "promote[a]"])
        #expect(loaded.steps[1].item == "a")
        #expect(store.schemaVersion == SQLiteRunStore.currentVersion)
        #expect(try store.integrityCheck() == "ok")
    }

    /// A batch where attempts start and end and steps go running and then end is stored with
    /// fewer statements; what is stored is what applying the changes one by one stores.
    @Test func aCoalescedBatchStoresWhatOneByOneStores() throws {
        let t = { (s: Double) in Date(timeIntervalSince1970: 2_000 + s) }
        func attempt(_ step: StepName, _ serial: Int, at: Double) -> AttemptRecord {
            var a = AttemptRecord(step: step, serial: serial, attempt: serial, startedAt: t(at))
            a.logPath = "/logs/\(step).\(serial).log"
            return a
        }
        let changes: [StoreChange] = [
            .runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: t(0)),
            .stepStatus("build", .running, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: t(1)),
            .attemptStarted(attempt("build", 1, at: 1)),
            .attemptProcess("build", serial: 1, pid: 4242),
            .stepStatus("promote[a]", .running, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: t(1.5)),
            .attemptStarted(attempt("promote[a]", 1, at: 1.5)),
            .progress("promote[a]", percent: 40, message: "copying"),
            .attemptFinished("build", serial: 1, end: AttemptEnd(.exited(code: 75)), errorCode: "UPSTREAM_RATE_LIMITED", message: "429",
                             counted: true, at: t(2)),
            .stepStatus("build", .queued, attempts: 1, serial: 1, retryAt: t(9), errorCode: "UPSTREAM_RATE_LIMITED", message: "retrying",
                        at: t(2)),
            .outputs("promote[a]", ["release": "r1"]),
            .attemptFinished("promote[a]", serial: 1, end: AttemptEnd(.exited(code: 0)), errorCode: nil, message: nil, counted: true, at: t(3)),
            .stepStatus("promote[a]", .succeeded, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: t(3)),
            .stepStatus("build", .running, attempts: 2, serial: 2, retryAt: nil, errorCode: nil, message: nil, at: t(9)),
            .attemptStarted(attempt("build", 2, at: 9)),
            .attemptFinished("build", serial: 2, end: AttemptEnd(.signalled(15)), errorCode: "STEP_FAILED", message: "terminated",
                             counted: true, at: t(10)),
            .stepStatus("build", .failed, attempts: 2, serial: 2, retryAt: nil, errorCode: "STEP_FAILED", message: "terminated", at: t(10)),
        ]
        #expect(SQLiteRunStore.coalesce(changes).count < changes.count)
        let (together, _) = try temporaryStore()
        let (oneByOne, _) = try temporaryStore()
        for store in [together, oneByOne] { try store.createRun(sampleRun(), steps: sampleSteps) }
        let id = RunID("20261123-000000-000001")
        try together.apply(changes, to: id)
        for change in changes { try oneByOne.apply([change], to: id) }
        let a = try #require(try together.load(id)), b = try #require(try oneByOne.load(id))
        func describe(_ run: StoredRun) -> String {
            "\(run.steps.map { "\($0.name) \($0.status) \($0.attempts) \($0.serial) \(String(describing: $0.retryAt)) \($0.errorCode ?? "-") \($0.errorMessage ?? "-") \(String(describing: $0.progress)) \($0.progressMessage ?? "-") \(String(describing: $0.startedAt)) \(String(describing: $0.finishedAt)) \($0.outputs)" })"
                + "\(run.attempts.map { "\($0.step) \($0.serial) \($0.attempt) \($0.counted) \($0.startedAt) \(String(describing: $0.finishedAt)) \(String(describing: $0.pid)) \(String(describing: $0.exitCode)) \(String(describing: $0.signal)) \($0.timedOut) \($0.errorCode ?? "-") \($0.message ?? "-") \($0.logPath ?? "-")" })"
        }
        #expect(describe(a) == describe(b))
        let events = { (store: SQLiteRunStore) in try store.events(of: id, after: 0).map { "\($0.id) \($0.kind) \($0.step ?? "-") \($0.status ?? "-") \($0.at)" } }
        #expect(try events(together) == events(oneByOne))
        #expect(a.steps.first { $0.name == "build" }?.status == .failed)
        #expect(a.attempts.first { $0.step == "build" && $0.serial == 1 }?.pid == 4242)
    }

    @Test func refsAndTriggerDetailRoundTrip() throws {
        let (store, _) = try temporaryStore()
        var run = sampleRun()
        run.trigger = .hook
        run.refs = ["targetRef": RecordedRef(sha: String(repeating: "a", count: 40), repository: "/srv/site.git")]
        run.triggerDetail = ["event": "post-receive", "ref": "refs/heads/main", "pusher": "alice"]
        try store.createRun(run, steps: sampleSteps)
        let loaded = try #require(try store.load(run.id))
        #expect(loaded.run.refs == run.refs)
        #expect(loaded.run.triggerDetail == run.triggerDetail)
        try store.createRun(sampleRun("20261123-000000-000002"), steps: [])
        #expect(try store.load(RunID("20261123-000000-000002"))?.run.refs.isEmpty == true)
    }

    @Test func onlyFinishedRunsPastTheCutoffAreCollected() throws {
        let (store, _) = try temporaryStore()
        let old = Date(timeIntervalSince1970: 1_000)
        for (id, status) in [("20261123-000000-000001", RunStatus.succeeded), ("20261123-000000-000002", .running),
                             ("20261123-000000-000003", .failed)] {
            try store.createRun(sampleRun(id, at: old), steps: sampleSteps)
            try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: old)], to: RunID(id))
            if status != .running {
                try store.apply([.runStatus(status, errorCode: nil, message: nil, wakeAt: nil, at: id.hasSuffix("3") ? Date(timeIntervalSince1970: 9_000) : old)],
                                to: RunID(id))
            }
        }
        #expect(try store.finishedRuns(before: Date(timeIntervalSince1970: 5_000)).map(\.id.rawValue) == ["20261123-000000-000001"])
        #expect(try store.deleteFinishedRun(RunID("20261123-000000-000002")) == false, "a running run is never deleted")
        #expect(try store.deleteFinishedRun(RunID("20261123-000000-000001")) == true)
        #expect(try store.load(RunID("20261123-000000-000001")) == nil)
        #expect(try store.load(RunID("20261123-000000-000002")) != nil)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func idempotencyKeysClaimReplayMismatchAndExpire() throws {
        let (store, _) = try temporaryStore()
        let t = Date(timeIntervalSince1970: 10_000)
        func claim(_ key: String, _ hash: String, at: Date = t) throws -> SQLiteRunStore.IdempotencyClaim {
            try store.claimIdempotencyKey(scope: "ci POST /x", key: key, payloadHash: hash, now: at, expiresAt: at.addingTimeInterval(60))
        }
        #expect(try claim("k", "h1") == .proceed)
        #expect(try claim("k", "h1") == .inFlight)
        #expect(try claim("k", "h2") == .mismatch)
        try store.completeIdempotencyKey(scope: "ci POST /x", key: "k", status: 202, body: Array(#"{"run_id":"r"}"#.utf8), runID: RunID("r"))
        #expect(try claim("k", "h1") == .replay(status: 202, body: Array(#"{"run_id":"r"}"#.utf8)))
        #expect(try store.claimIdempotencyKey(scope: "other POST /x", key: "k", payloadHash: "h2", now: t, expiresAt: t + 60) == .proceed,
                "keys are scoped by caller and route")
        #expect(try claim("k", "h2", at: t.addingTimeInterval(61)) == .proceed, "an expired key starts over")
        try store.releaseIdempotencyKey(scope: "ci POST /x", key: "k")
        #expect(try claim("k", "h3") == .proceed)
        #expect(try store.expireIdempotencyKeys(now: t.addingTimeInterval(3600)) == 2)
    }

    @Test func transitionsAttemptsAndOutputsAreRecorded() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        try store.createRun(sampleRun(), steps: sampleSteps)
        let t = Date(timeIntervalSince1970: 2_000)
        var attempt = AttemptRecord(step: "build", serial: 1, attempt: 1, startedAt: t)
        attempt.logPath = "logs/build.1.log"
        try store.apply([
            .runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: t),
            .stepStatus("build", .running, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: t),
            .attemptStarted(attempt),
            .attemptProcess("build", serial: 1, pid: 4242),
        ], to: id)
        try store.apply([
            .attemptFinished("build", serial: 1, end: AttemptEnd(.exited(code: 0)), errorCode: nil, message: nil, counted: true, at: t + 5),
            .outputs("build", ["release": "r1"]),
            .stepStatus("build", .succeeded, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: t + 5),
        ], to: id)
        let loaded = try #require(try store.load(id))
        #expect(loaded.run.status == .running)
        #expect(loaded.run.startedAt == t)
        #expect(loaded.steps[0].status == .succeeded)
        #expect(loaded.steps[0].outputs == ["release": "r1"])
        #expect(loaded.steps[0].progress == 100)
        #expect(loaded.attempts.count == 1)
        #expect(loaded.attempts[0].pid == 4242)
        #expect(loaded.attempts[0].exitCode == 0)
        #expect(loaded.attempts[0].finishedAt == t + 5)
        let events = try store.events(of: id, after: 0)
        #expect(events.map(\.status) == ["queued", "running", "running", "succeeded"])
    }

    @Test func invalidTransitionsAreRefusedAndNothingIsWritten() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        try store.createRun(sampleRun(), steps: sampleSteps)
        #expect(throws: TransitionError.self) {
            try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: Date()),
                             .stepStatus("build", .succeeded, attempts: 0, serial: 0, retryAt: nil, errorCode: nil, message: nil, at: Date())],
                            to: id)
        }
        #expect(try store.load(id)?.run.status == .queued, "the batch rolled back as a whole")
    }

    @Test func terminalStatesNeverChangeEvenWithRawSQL() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        try store.createRun(sampleRun(), steps: sampleSteps)
        try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: Date()),
                         .runStatus(.failed, errorCode: "X", message: "m", wakeAt: nil, at: Date())], to: id)
        #expect(throws: TransitionError.self) {
            try store.apply([.runStatus(.succeeded, errorCode: nil, message: nil, wakeAt: nil, at: Date())], to: id)
        }
        #expect(throws: Database.Error.self) {
            try store.database.run("UPDATE runs SET status = 'succeeded' WHERE id = ?", [.text(id.rawValue)])
        }
        #expect(try store.load(id)?.run.status == .failed)
        #expect(try store.load(id)?.run.errorCode == "X")
    }

    /// Many steps created and run in one transaction each: rows go in statements of several,
    /// events numbered on from the run's last without a gap, in the order of their changes.
    @Test(arguments: [1, 3, 5, 17, 64, 70, 151])
    func manyRowsInOneTransactionAreAllStoredInOrder(_ count: Int) throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        let steps = (0..<count).map { StepRecord(name: StepName("s\($0)"), step: "s\($0)", item: nil, section: "main", position: $0) }
        try store.createRun(sampleRun(), steps: steps)
        let at = Date(timeIntervalSince1970: 5_000)
        var changes: [StoreChange] = [.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: at)]
        for step in steps {
            changes.append(.stepStatus(step.name, .running, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: at))
            changes.append(.stepStatus(step.name, .succeeded, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: at))
        }
        try store.apply(changes, to: id)
        try store.apply([.runStatus(.succeeded, errorCode: nil, message: nil, wakeAt: nil, at: at)], to: id)
        let stored = try #require(try store.load(id))
        #expect(stored.steps.map(\.name) == steps.map(\.name) && stored.steps.map(\.position) == Array(0..<count))
        #expect(stored.steps.allSatisfy { $0.status == .succeeded })
        let events = try store.events(of: id, after: 0)
        #expect(events.map(\.id) == (1...Int64(2 * count + 3)).map { $0 })
        let expected = ["run queued", "run running"] + steps.flatMap { ["\($0.name) running", "\($0.name) succeeded"] } + ["run succeeded"]
        #expect(events.map { "\($0.step ?? $0.kind) \($0.status ?? "")" } == expected)
    }

    @Test func finishedStepsNeverChangeEvenWithRawSQL() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        try store.createRun(sampleRun(), steps: sampleSteps)
        try store.database.run("UPDATE steps SET status = 'running' WHERE name = 'build'")
        try store.database.run("UPDATE steps SET status = 'succeeded' WHERE name = 'build'")
        for status in ["running", "failed", "queued"] {
            #expect(throws: Database.Error.self) {
                try store.database.run("UPDATE steps SET status = ? WHERE name = 'build'", [.text(status)])
            }
        }
        try store.database.run("UPDATE steps SET status = 'succeeded', progress = 100 WHERE name = 'build'")
        #expect(try store.load(id)?.steps.first?.status == .succeeded)
    }

    /// Without its definition, a run loads as it does with it but for the definition's text.
    @Test func loadWithoutTheDefinitionLeavesOutItsTextOnly() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        try store.createRun(sampleRun(), steps: sampleSteps)
        try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: Date()),
                         .stepStatus("build", .running, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: Date()),
                         .attemptStarted(AttemptRecord(step: "build", serial: 1, attempt: 1, startedAt: Date()))], to: id)
        let full = try #require(try store.load(id, definition: true))
        let bare = try #require(try store.load(id, definition: false))
        #expect(full.run.definition == "version: 1" && bare.run.definition == "")
        #expect(bare.run.id == id && bare.run.status == .running && bare.run.params == full.run.params)
        #expect(bare.steps.map { "\($0.name) \($0.status) \($0.serial)" } == full.steps.map { "\($0.name) \($0.status) \($0.serial)" })
        #expect(bare.attempts.map { "\($0.step) \($0.serial)" } == ["build 1"] && full.attempts.count == 1)
        #expect(try store.load(RunID("20261123-000000-000009"), definition: false) == nil)
    }

    /// A run none of whose steps started comes without its steps; any other, as `load` has it.
    @Test func loadForExecutionLeavesOutTheStepsOfAFreshRunOnly() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        #expect(try store.loadForExecution(id, definition: true) == nil)
        try store.createRun(sampleRun(), steps: sampleSteps)
        let fresh = try #require(try store.loadForExecution(id, definition: true))
        #expect(fresh.run.definition == "version: 1" && fresh.run.params["n"] == .int(3))
        #expect(try store.loadForExecution(id, definition: false)?.run.definition == "")
        #expect(fresh.steps.isEmpty && fresh.attempts.isEmpty && fresh.isFresh)
        try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: Date()),
                         .stepStatus("build", .running, attempts: 1, serial: 1, retryAt: nil, errorCode: nil, message: nil, at: Date()),
                         .attemptStarted(AttemptRecord(step: "build", serial: 1, attempt: 1, startedAt: Date()))], to: id)
        let started = try #require(try store.loadForExecution(id, definition: true))
        #expect(started.steps.map(\.name) == ["build", "promote[a]"] && started.attempts.count == 1 && !started.isFresh)
    }

    @Test func leases() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        try store.createRun(sampleRun(), steps: sampleSteps)
        let now = Date(timeIntervalSince1970: 5_000)
        let a = try #require(try store.claim(id, owner: "a", until: now + 15, now: now, isOwnerAlive: { _ in true }))
        #expect(try store.claim(id, owner: "b", until: now + 15, now: now, isOwnerAlive: { _ in true }) == nil, "a live lease holds")
        let b = try #require(try store.claim(id, owner: "b", until: now + 15, now: now, isOwnerAlive: { $0 != "a" }),
                             "a dead owner's lease is void")
        #expect(b.epoch == a.epoch + 1, "each claim bumps the epoch")
        #expect(throws: LeaseLost.self) { try store.apply([], under: a, leaseUntil: now + 30) }
        try store.apply([], under: b, leaseUntil: now + 30)
        #expect(try store.load(id)?.run.leaseUntil == now + 30)
        let c = try #require(try store.claim(id, owner: "c", until: now + 60, now: now + 31, isOwnerAlive: { _ in true }),
                             "an expired lease is free")
        try store.releaseLease(b)
        #expect(try store.load(id)?.run.owner == "c", "a void lease releases nothing")
        try store.releaseLease(c)
        #expect(try store.load(id)?.run.owner == nil)
    }

    /// A paused owner's writes after another runner claimed the run change nothing (fencing).
    @Test func aWriteUnderAVoidLeaseChangesNothing() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        try store.createRun(sampleRun(), steps: sampleSteps)
        let now = Date(timeIntervalSince1970: 5_000)
        let paused = try #require(try store.claimUnstarted(id, owner: "a", until: now + 15))
        #expect(try store.claimUnstarted(id, owner: "b", until: now + 15) == nil, "claimed once only")
        let taker = try #require(try store.claim(id, owner: "b", until: now + 60, now: now + 20, isOwnerAlive: { _ in true }))
        try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: now + 21)], under: taker, leaseUntil: now + 80)
        do {
            try store.apply([.runStatus(.succeeded, errorCode: nil, message: nil, wakeAt: nil, at: now + 22)], under: paused,
                            leaseUntil: now + 40)
            Issue.record("a write under a void lease was stored")
        } catch let lost as LeaseLost {
            #expect(lost.holder == "b")
            #expect("\(lost)".contains("taken over"))
        }
        let run = try #require(try store.load(id)?.run)
        #expect(run.status == .running && run.owner == "b" && run.leaseUntil == now + 80 && run.epoch == taker.epoch)
    }

    @Test func secretParamNamesAreStoredWithTheRun() throws {
        let (store, _) = try temporaryStore()
        var run = sampleRun()
        run.secretParams = ["token", "apiKey"]
        try store.createRun(run, steps: [])
        #expect(try store.load(run.id)?.run.secretParams == ["token", "apiKey"])
        #expect(try store.runs(RunQuery()).first?.secretParams == ["token", "apiKey"])
    }

    @Test func cancelRequestsOnlyForUnfinishedRuns() throws {
        let (store, _) = try temporaryStore()
        let id = RunID("20261123-000000-000001")
        try store.createRun(sampleRun(), steps: sampleSteps)
        #expect(try !store.isCancelRequested(id))
        #expect(try store.requestCancel(id, at: Date()))
        #expect(try store.isCancelRequested(id))
        try store.apply([.runStatus(.cancelled, errorCode: nil, message: nil, wakeAt: nil, at: Date())], to: id)
        #expect(try !store.requestCancel(id, at: Date()))
    }

    @Test func listingFiltersAndPagesNewestFirst() throws {
        let (store, _) = try temporaryStore()
        for n in 1...7 {
            try store.createRun(sampleRun("20261123-00000\(n)-000000", pipeline: n % 2 == 0 ? "even" : "odd"), steps: [])
        }
        #expect(try store.runs(RunQuery(limit: 3)).map(\.id.rawValue) == ["20261123-000007-000000", "20261123-000006-000000", "20261123-000005-000000"])
        #expect(try store.runs(RunQuery(limit: 3, before: RunID("20261123-000005-000000"))).count == 3)
        #expect(try store.runs(RunQuery(pipeline: "even")).count == 3)
        #expect(try store.runs(RunQuery(statuses: [.running])).isEmpty)
    }

    @Test func reopeningKeepsDataAndANewerSchemaIsRefused() throws {
        let (store, dir) = try temporaryStore()
        try store.createRun(sampleRun(), steps: sampleSteps)
        let path = dir.appendingPathComponent("state.db").path
        let again = try SQLiteRunStore(path: path)
        #expect(try again.load(RunID("20261123-000000-000001")) != nil)
        try again.database.run("INSERT INTO schema_migrations VALUES (999, 0)")
        #expect(throws: SQLiteRunStore.StoreError.self) { try SQLiteRunStore(path: path) }
    }

    @Test func migrationTwoKeepsEveryEventNumberedPerRun() throws {
        // A database left by a runner at schema 1 (events numbered across runs).
        let dir = try temporaryDirectory("migrate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.db").path
        do {
            let old = try database(atSchema: 1, path: path)
            for run in ["r1", "r2"] {
                try old.execute("""
                    INSERT INTO runs (id, pipeline, pipeline_file, definition, status, trigger, params, parallelism, created_at, updated_at)
                    VALUES ('\(run)', 'p', 'p.yaml', '', 'running', 'cli', '{}', 1, 0, 0)
                    """)
            }
            for (run, status) in [("r1", "queued"), ("r2", "queued"), ("r1", "running"), ("r2", "running"), ("r1", "succeeded")] {
                try old.execute("INSERT INTO events (run_id, at, kind, status) VALUES ('\(run)', 1, 'run', '\(status)')")
            }
        }
        let store = try SQLiteRunStore(path: path)
        #expect(store.schemaVersion == SQLiteRunStore.currentVersion, "migrated through every later migration too")
        #expect(try store.events(of: RunID("r1"), after: 0).map(\.id) == [1, 2, 3])
        #expect(try store.events(of: RunID("r1"), after: 0).map(\.status) == ["queued", "running", "succeeded"])
        #expect(try store.events(of: RunID("r2"), after: 1).map(\.status) == ["running"])
        // New events continue each run's numbering.
        try store.apply([.runStatus(.succeeded, errorCode: nil, message: nil, wakeAt: nil, at: Date())], to: RunID("r2"))
        #expect(try store.events(of: RunID("r2"), after: 0).map(\.id) == [1, 2, 3])
    }

    /// A new database gets `Migrations.fresh`; one made by every migration in turn must have
    /// the same tables (columns in order, types, keys, defaults), indexes, foreign keys and
    /// triggers.
    @Test func aNewDatabaseHasTheSchemaEveryMigrationInTurnMakes() throws {
        let dir = try temporaryDirectory("schema")
        defer { try? FileManager.default.removeItem(at: dir) }
        let replayed = try database(atSchema: SQLiteRunStore.currentVersion, path: dir.appendingPathComponent("replayed.db").path)
        let fresh = try SQLiteRunStore(path: dir.appendingPathComponent("fresh.db").path).database
        let a = try describeSchema(replayed), b = try describeSchema(fresh)
        #expect(a.count > 100, "the description covers the schema")
        let same = a == b
        #expect(same, "replayed only: \(a.filter { !b.contains($0) }); fresh only: \(b.filter { !a.contains($0) })")
        #expect(try fresh.query("SELECT COUNT(*) FROM schema_migrations").first?.int(0) == Migrations.all.count)
    }

    @Test func migrationSevenMovesEachDefinitionOutOfItsRunsRow() throws {
        let dir = try temporaryDirectory("migrate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.db").path
        do {
            // A database left by a runner at schema 6, the definition in the run's row.
            let old = try database(atSchema: 6, path: path)
            try old.execute("""
                INSERT INTO runs (id, pipeline, pipeline_file, definition, status, trigger, params, parallelism, created_at, updated_at)
                VALUES ('r1', 'p', 'p.yaml', 'version: 1\nname: p\n', 'succeeded', 'cli', '{}', 1, 0, 0)
                """)
        }
        let store = try SQLiteRunStore(path: path)
        #expect(store.schemaVersion == SQLiteRunStore.currentVersion)
        #expect(try store.load(RunID("r1"))?.run.definition == "version: 1\nname: p\n")
        #expect(try store.runs(RunQuery(limit: 10)).map(\.definition) == ["version: 1\nname: p\n"])
        #expect(try store.database.query("SELECT definition FROM runs").first?.string(0) == "")
        // A new run's definition is stored beside it, and goes with it.
        try store.createRun(sampleRun("r2"), steps: sampleSteps)
        #expect(try store.load(RunID("r2"))?.run.definition == "version: 1")
        #expect(try store.deleteFinishedRun(RunID("r1")))
        #expect(try store.database.query("SELECT run_id FROM definitions ORDER BY run_id").map { $0.string(0) } == ["r2"])
    }

    @Test func twoConnectionsWritingConcurrentlyNeverSeeBusy() throws {
        let (store, dir) = try temporaryStore()
        for n in 0..<2 { try store.createRun(sampleRun("20261123-000000-00000\(n)"), steps: sampleSteps) }
        let path = dir.appendingPathComponent("state.db").path
        let failures = FailureCounter()
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            do {
                let other = try SQLiteRunStore(path: path)
                for i in 0..<200 {
                    try other.apply([.progress("build", percent: i % 100, message: "w\(worker)")], to: RunID("20261123-000000-00000\(worker)"))
                }
            } catch {
                failures.add()
            }
        }
        #expect(failures.count == 0)
        #expect(try store.integrityCheck() == "ok")
    }
}

final class FailureCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}
