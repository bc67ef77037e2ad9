import Foundation
import Testing
import RunnerCore
@testable import RunnerStore

/// Another process holding the database (issue 16, item 1): every operation that fails for
/// it leaves the connection clean, and fails as transient, never as "not found".
@Suite struct StoreLockTests {
    /// A store whose statements wait 50 ms for a lock, and a second connection to hold it.
    func lockedStore() throws -> (SQLiteRunStore, Database, URL) {
        let (store, dir) = try temporaryStore()
        store.database.setBusyTimeout(milliseconds: 50)
        let other = try Database(path: dir.appendingPathComponent("state.db").path)
        other.setBusyTimeout(milliseconds: 50)
        return (store, other, dir)
    }

    @Test func aFailedWriteUnderAnotherConnectionsLockLeavesTheStoreUsable() throws {
        let (store, other, dir) = try lockedStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = sampleRun()
        try store.createRun(run, steps: [])
        try other.execute("BEGIN EXCLUSIVE")
        // Writes fail as transient while the lock is held; reads still see the run.
        for _ in 0..<3 {
            #expect(throws: Database.Error.self) { try store.createRun(sampleRun("20261123-000000-000002"), steps: []) }
            #expect(throws: Database.Error.self) { try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: Date())], to: run.id) }
            #expect(try store.load(run.id)?.run.id == run.id)
            #expect(store.database.isClean)
        }
        do {
            try store.createRun(sampleRun("20261123-000000-000003"), steps: [])
            Issue.record("a write under another connection's lock succeeded")
        } catch let error as Database.Error {
            #expect(error.isTransient)
        }
        try other.execute("COMMIT")
        // Everything works again on the same connection.
        try store.createRun(sampleRun("20261123-000000-000004"), steps: [])
        #expect(try store.load(RunID("20261123-000000-000004")) != nil)
        #expect(try store.load(run.id) != nil)
        #expect(store.database.isClean)
    }

    @Test func aReadWhoseCommitFailsDoesNotLeaveItsTransactionOpen() throws {
        let (store, other, dir) = try lockedStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        try store.createRun(sampleRun(), steps: [])
        try other.execute("BEGIN EXCLUSIVE")
        // A BUSY write leaves its BEGIN pending unless reset; the next read's COMMIT failed then.
        #expect(throws: Database.Error.self) { try store.createRun(sampleRun("20261123-000000-000002"), steps: []) }
        _ = try store.load(RunID("20261123-000000-000001"))
        _ = try store.load(RunID("20261123-000000-000001"))
        #expect(store.database.isClean)
        try other.execute("COMMIT")
        try store.createRun(sampleRun("20261123-000000-000005"), steps: [])
    }

    @Test func transactionsNestAndAWriteInsideAReadIsRefused() throws {
        let (store, _, dir) = try lockedStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = store.database
        try db.write { try db.write { try db.run("CREATE TABLE t (x)") } }
        #expect(throws: Database.Error.self) { try db.read { try db.write { try db.run("INSERT INTO t VALUES (1)") } } }
        #expect(db.isClean)
        try db.write { try db.run("INSERT INTO t VALUES (2)") }
        #expect(try db.query("SELECT count(*) FROM t").first?.int(0) == 1)
    }

    @Test func transientAndPermanentErrorsAreTold() {
        #expect(Database.Error(code: 5, message: "database is locked").isTransient)
        #expect(Database.Error(code: 13, message: "database or disk is full").isTransient)
        #expect(Database.Error(code: 10 | (3 << 8), message: "disk I/O error").isTransient)
        #expect(!Database.Error(code: 19, message: "constraint failed").isTransient)
        #expect(!Database.Error(code: 1, message: "no such table").isTransient)
    }
}

extension StoreLockTests {
    /// A command that only reads (`runs list`) opens a store at this runner's version while
    /// another process holds its write lock: opening writes nothing then.
    @Test func aCurrentStoreOpensUnderAnotherConnectionsWriteLock() throws {
        let (store, other, dir) = try lockedStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        try store.createRun(sampleRun(), steps: [])
        try other.execute("BEGIN EXCLUSIVE")
        defer { try? other.execute("COMMIT") }
        let reopened = try SQLiteRunStore(path: dir.appendingPathComponent("state.db").path)
        #expect(try reopened.runs(RunQuery()).count == 1)
    }
}
