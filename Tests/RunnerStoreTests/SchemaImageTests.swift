import Foundation
import Testing
import RunnerCore
@testable import RunnerStore

/// A new state database is written from a file image of the schema (SchemaImage), not made
/// by running the DDL. The image must be what the DDL makes.
@Suite struct SchemaImageTests {
    /// With RUNNER_WRITE_SCHEMA_IMAGE=1, writes `SchemaImage+Data.swift` again from the DDL
    /// first (after a change to `Migrations.fresh`).
    @Test func theImageHoldsTheSchemaTheDDLMakes() throws {
        let dir = try temporaryDirectory("image")
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try SchemaImage.make(at: dir.appendingPathComponent("ddl.db").path)
        if ProcessInfo.processInfo.environment["RUNNER_WRITE_SCHEMA_IMAGE"] == "1" {
            let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Sources/RunnerStore/SchemaImage+Data.swift")
            try SchemaImage.source(of: made).write(to: file, atomically: true, encoding: .utf8)
        }
        let image = SchemaImage.bytes()
        #expect(image.count == made.count && image.count % 4096 == 0, "the image is \(image.count) bytes, the DDL makes \(made.count)")
        // Both as databases: the same schema, WAL mode, nothing recorded, sound.
        let imagePath = dir.appendingPathComponent("image.db").path, ddlPath = dir.appendingPathComponent("ddl2.db").path
        try Data(image).write(to: URL(fileURLWithPath: imagePath))
        try Data(made).write(to: URL(fileURLWithPath: ddlPath))
        let fromImage = try Database(path: imagePath), fromDDL = try Database(path: ddlPath)
        let a = try describeSchema(fromImage), b = try describeSchema(fromDDL)
        #expect(a.count > 100)
        #expect(a == b, """
            the image is not the schema Migrations.fresh makes: write it again with \
            RUNNER_WRITE_SCHEMA_IMAGE=1 swift test --filter SchemaImageTests. \
            image only: \(a.filter { !b.contains($0) }); DDL only: \(b.filter { !a.contains($0) })
            """)
        for pragma in ["journal_mode", "page_size", "auto_vacuum", "encoding", "user_version", "application_id"] {
            #expect(try fromImage.query("PRAGMA \(pragma)").first?.string(0) == fromDDL.query("PRAGMA \(pragma)").first?.string(0), "\(pragma)")
        }
        #expect(try fromImage.query("PRAGMA journal_mode").first?.string(0) == "wal")
        #expect(try fromImage.query("PRAGMA integrity_check").first?.string(0) == "ok")
        #expect(try fromImage.query("SELECT COUNT(*) FROM schema_migrations").first?.int(0) == 0)
    }

    @Test func aNewStoreIsMadeFromTheImageAndRecordsItsMigrations() throws {
        let dir = try temporaryDirectory("image")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.db").path
        let store = try SQLiteRunStore(path: path)
        #expect(store.schemaVersion == SQLiteRunStore.currentVersion)
        #expect(try store.database.query("SELECT COUNT(*) FROM schema_migrations").first?.int(0) == Migrations.all.count)
        #expect(try store.database.query("PRAGMA integrity_check").first?.string(0) == "ok")
        try store.createRun(sampleRun(), steps: [])
        #expect(try store.load(sampleRun().id) != nil)
        // Nothing is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".image-") }.isEmpty)
        // Opened again: not made again, the run still there.
        let again = try SQLiteRunStore(path: path)
        #expect(try again.load(sampleRun().id) != nil)
    }

    /// Two commands starting at once in a new state directory: one links the image into
    /// place, the other opens it before the first has recorded its migrations. Both open it
    /// (the second failed with "table runs already exists").
    @Test func aStoreOpenedWhileAnotherIsRecordingTheImageOpens() throws {
        let dir = try temporaryDirectory("image")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.db").path
        #expect(SchemaImage.create(at: path))
        let second = try SQLiteRunStore(path: path)
        #expect(second.schemaVersion == SQLiteRunStore.currentVersion)
        let first = try Database(path: path, isNew: true)
        try SQLiteRunStore.migrate(first, fromImage: true)
        #expect(try first.query("SELECT COUNT(*) FROM schema_migrations").first?.int(0) == Migrations.all.count)
    }

    @Test func theImageIsNeverWrittenOverAFile() throws {
        let dir = try temporaryDirectory("image")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.db").path
        #expect(SchemaImage.create(at: path))
        try Data("someone else's".utf8).write(to: URL(fileURLWithPath: path))
        #expect(!SchemaImage.create(at: path))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "someone else's")
    }

    /// A power loss just after the image was written (it is not synced) may leave zeros: no run
    /// was ever stored there, and the next start makes the database again.
    @Test func zerosWhereTheDatabaseWasBeingMadeAreMadeAgain() throws {
        let dir = try temporaryDirectory("image")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.db").path
        try Data(count: 81920).write(to: URL(fileURLWithPath: path))
        let store = try SQLiteRunStore(path: path)
        #expect(store.schemaVersion == SQLiteRunStore.currentVersion)
        // Anything else that is not a database is an error, and the file is left alone.
        let other = dir.appendingPathComponent("other.db").path
        try Data("not a database, and not zeros: ".utf8 + Data(count: 8192)).write(to: URL(fileURLWithPath: other))
        #expect(throws: (any Error).self) { _ = try SQLiteRunStore(path: other) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)).prefix(3) == Data("not".utf8))
    }
}
