import Foundation
import Testing
import RunnerCore
@testable import RunnerStore
import RunnerTestSupport

/// What only the SQLite store has: its schema, migrations, triggers, connections and file. Its
/// behaviour as a run store is in `RunStoreConformanceTests`, with every other backend's.
func temporaryStore() throws -> (SQLiteRunStore, URL) {
    let dir = try temporaryDirectory("store")
    return (try SQLiteRunStore(path: dir.appendingPathComponent("state.db").path), dir)
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

/// A store opened on a database a runner at schema `version` left in `dir`, holding what `fill`
/// wrote there: every later migration has run.
func store(migratedFrom version: Int, in dir: URL, _ fill: (Database) throws -> Void) throws -> SQLiteRunStore {
    let path = dir.appendingPathComponent("state.db").path
    try fill(try database(atSchema: version, path: path))
    return try SQLiteRunStore(path: path)
}

/// A run's row as every schema since the first has it.
func insertRun(_ id: String, status: String, definition: String = "", into db: Database) throws {
    try db.execute("""
        INSERT INTO runs (id, pipeline, pipeline_file, definition, status, trigger, params, parallelism, created_at,
                          updated_at)
        VALUES ('\(id)', 'p', 'p.yaml', '\(definition)', '\(status)', 'cli', '{}', 1, 0, 0)
        """)
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

@Suite struct SQLiteRunStoreTests {
    @Test func aNewStoreIsAtTheCurrentSchemaAndSound() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        try store.createRun(sampleRun(), steps: sampleSteps)
        #expect(store.schemaVersion == SQLiteRunStore.currentVersion)
        #expect(try store.database.query("SELECT COUNT(*) FROM schema_migrations").first?.int(0)
                == Migrations.all.count)
        #expect(try store.database.query("PRAGMA journal_mode").first?.string(0) == "wal")
        #expect(try store.integrityCheck() == "ok")
    }

    /// A batch of quick steps is written with fewer statements than changes (what it stores is
    /// checked by `RunStoreConformanceTests.aBatchStoresWhatOneByOneStores`).
    @Test func aBatchOfQuickStepsIsCoalesced() {
        let changes = RunStoreConformanceTests.quickSteps
        #expect(SQLiteRunStore.coalesce(changes).count < changes.count)
    }

    /// `finishedStatuses` is the enum's: every terminal status and no other.
    @Test func theFinishedStatusesInSQLAreTheEnums() {
        for status in RunStatus.allCases {
            #expect(SQLiteRunStore.finishedStatuses.contains("'\(status.rawValue)'") == status.isTerminal, "\(status)")
        }
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
        let store = try store(migratedFrom: 1, in: dir) { old in
            for run in ["r1", "r2"] { try insertRun(run, status: "running", into: old) }
            for (run, status) in [("r1", "queued"), ("r2", "queued"), ("r1", "running"), ("r2", "running"),
                                  ("r1", "succeeded")] {
                try old.execute("INSERT INTO events (run_id, at, kind, status) VALUES ('\(run)', 1, 'run', '\(status)')")
            }
        }
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
        // At schema 6, the definition is in the run's row.
        let store = try store(migratedFrom: 6, in: dir) { old in
            try insertRun("r1", status: "succeeded", definition: "version: 1\nname: p\n", into: old)
        }
        #expect(store.schemaVersion == SQLiteRunStore.currentVersion)
        #expect(try store.load(RunID("r1"))?.run.definition == "version: 1\nname: p\n")
        #expect(try store.runs(RunQuery(limit: 10)).map(\.definition) == [""], "lists come without definitions")
        #expect(try store.database.query("SELECT definition FROM runs").first?.string(0) == "")
        // A new run's definition is stored beside it, and goes with it.
        try store.createRun(sampleRun("r2"), steps: sampleSteps)
        #expect(try store.load(RunID("r2"))?.run.definition == "version: 1")
        #expect(try store.deleteFinishedRun(RunID("r1")))
        #expect(try store.database.query("SELECT run_id FROM definitions ORDER BY run_id").map { $0.string(0) } == ["r2"])
    }

    @Test func twoConnectionsWritingConcurrentlyNeverSeeBusy() async throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        for n in 0..<2 { try store.createRun(sampleRun("20261123-000000-00000\(n)"), steps: sampleSteps) }
        let path = dir.appendingPathComponent("state.db").path
        let failures = try await concurrently(2) { worker in
            let other = try SQLiteRunStore(path: path)
            for i in 0..<200 {
                try other.apply([.progress("build", percent: i % 100, message: "w\(worker)")],
                                to: RunID("20261123-000000-00000\(worker)"))
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(try store.integrityCheck() == "ok")
    }
}

extension SQLiteRunStoreTests {
    /// Migration 10: the key a run was launched with gets columns of its own, filled from the
    /// trigger details of the runs already there; a key left in flight finds its run by them.
    @Test func migrationTenGivesARunsIdempotencyKeyColumns() throws {
        let dir = try temporaryDirectory("migrate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try store(migratedFrom: 9, in: dir) { old in
            for (id, detail) in [("r1", #"'{"idempotency_key":"k1","idempotency_scope":"ci POST /p"}'"#),
                                 ("r2", #"'{"ref":"refs/heads/main"}'"#), ("r3", "NULL"),
                                 ("r4", #"'not json, idempotency_key'"#)] {
                try insertRun(id, status: "queued", into: old)
                try old.execute("UPDATE runs SET trigger_detail = \(detail) WHERE id = '\(id)'")
            }
            try old.execute("""
                INSERT INTO idempotency (scope, key, payload_hash, state, created_at, expires_at)
                VALUES ('ci POST /p', 'k1', 'h', 'in_flight', 0, 1e12)
                """)
        }
        #expect(store.schemaVersion == SQLiteRunStore.currentVersion)
        let columns = try store.database.query("SELECT id, idempotency_scope, idempotency_key FROM runs ORDER BY id")
            .map { "\($0.string(0) ?? "") \($0.string(1) ?? "-") \($0.string(2) ?? "-")" }
        #expect(columns == ["r1 ci POST /p k1", "r2 - -", "r3 - -", "r4 - -"])
        #expect(try store.load(RunID("r1"))?.run.idempotencyKey == IdempotencyKey(scope: "ci POST /p", key: "k1"))
        #expect(try store.settleInFlightIdempotencyKeys { run in (202, Array(run.id.rawValue.utf8)) } == 1)
        let now = Date()
        #expect(try store.claimIdempotencyKey(scope: "ci POST /p", key: "k1", payloadHash: "h", now: now,
                                              expiresAt: now) == .replay(status: 202, body: Array("r1".utf8)))
        let plan = try store.database.query("""
            EXPLAIN QUERY PLAN SELECT id FROM runs WHERE idempotency_scope = 'a' AND idempotency_key = 'b'
            """).map { $0.string(3) ?? "" }
        #expect(plan.contains { $0.contains("runs_by_idempotency_key") }, "\(plan)")
    }

    /// Migration 11: a refusal's code, kept in `action` after a space until then, gets its
    /// own column; entries without one keep their action as it was.
    @Test func migrationElevenMovesTheAuditCodeToAColumn() throws {
        let dir = try temporaryDirectory("migrate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try store(migratedFrom: 10, in: dir) { old in
            for action in ["cancel", "launch_rejected GUARDED_BUSY", "launch_invalid RUN6010"] {
                try old.execute("INSERT INTO audit (at, action, actor, params) VALUES (1, '\(action)', 'ci', '{}')")
            }
        }
        #expect(try store.audit(limit: 10).map { "\($0.action) \($0.code ?? "-")" }
                == ["launch_invalid RUN6010", "launch_rejected GUARDED_BUSY", "cancel -"])
        #expect(try store.database.query("SELECT count(*) FROM audit WHERE action LIKE '% %'").first?.int(0) == 0)
    }

    /// Migration 12: who launched each run; the runs recorded before it have nobody, and a new
    /// run after it keeps its actor.
    @Test func migrationTwelveAddsTheActor() throws {
        let dir = try temporaryDirectory("migrate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try store(migratedFrom: 11, in: dir) { old in
            try insertRun("20261123-000000-000001", status: "succeeded", into: old)
        }
        #expect(try store.load(RunID("20261123-000000-000001"))?.run.actor == nil)
        var run = sampleRun("20261123-000000-000002")
        run.actor = "ci"
        try store.createRun(run, steps: [])
        #expect(try store.runs(RunQuery(actor: "ci")).map(\.id) == [run.id])
    }

    /// Commands racing to make a new state database all open it, at the current schema (one
    /// migrates; the others wait for its write lock and find the migrations recorded).
    @Test(arguments: 0..<10)
    func storesOpenedAtOnceOnANewDatabaseAllOpen(_ round: Int) async throws {
        let dir = try temporaryDirectory("race")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.db").path
        let versions = Collected<Int>()
        let failures = try await concurrently(8) { _ in
            let store = try SQLiteRunStore(path: path)
            versions.add(store.schemaVersion)
            _ = try store.runs(RunQuery())
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(versions.values == Array(repeating: SQLiteRunStore.currentVersion, count: 8))
        #expect(try SQLiteRunStore(path: path).integrityCheck() == "ok")
    }
}
