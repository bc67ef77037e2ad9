#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import FoundationEssentials
import RunnerCore

/// The run state on SQLite: `.runner/state.db` (or `$RUNNER_HOME/state.db`). Each role of
/// `RunStateStore` is in an extension of its own (`+Records`, `+Changes`, `+Leases`, ...).
/// Their atomicity contracts hold through SQLite's write transactions: `BEGIN IMMEDIATE`
/// takes the one write lock of the whole database, so every check-then-write of a role is
/// one transaction and nothing else writes in between.
public final class SQLiteRunStore: RunStateStore, @unchecked Sendable {
    public let database: Database
    public var health: StoreHealth { database.health }

    public struct StoreError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Opens the database at `path`, made by the migrations when there is none.
    public init(path: String) throws {
        database = try Database(path: path)
        try Self.migrate(database)
        try database.settle()
        // Private to its owner, whoever made it (SQLite makes its files 0644 less the umask;
        // its -wal and -shm take the database's mode when they are made).
        for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
    }

    /// The schema version this build knows.
    public static var currentVersion: Int { Migrations.all.last?.version ?? 0 }

    /// Brings the database to `currentVersion`. Commands racing to make a new state database
    /// all open it: each migrates in one write transaction, and whichever comes second finds
    /// the migrations recorded and does nothing.
    static func migrate(_ database: Database) throws {
        // Already at this version (every start but the first): nothing to write, so a command
        // that only reads opens the store while another process holds its write lock.
        if let applied = try? database.query("SELECT MAX(version) FROM schema_migrations").first?.int(0),
           applied == currentVersion {
            return
        }
        try database.write {
            try database.run(Migrations.bookkeeping)
            let applied = try database.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").first?.int(0) ?? 0
            if applied > Self.currentVersion {
                throw StoreError(description: "the state database is at schema version \(applied), newer than this "
                                 + "runner (\(Self.currentVersion)); use a newer runner")
            }
            // A new database gets the schema the migrations leave, made at once.
            let objects = try database.query("SELECT count(*) FROM sqlite_master WHERE name <> 'schema_migrations'")
                .first?.int(0) ?? 0
            let isEmpty = applied == 0 && objects == 0
            if isEmpty { try database.execute(Migrations.fresh) }
            for migration in Migrations.all where migration.version > applied {
                if !isEmpty { try database.execute(migration.sql) }
                try database.run("INSERT INTO schema_migrations VALUES (?, ?)", [.integer(Int64(migration.version)), .date(Date())])
            }
        }
    }

    public var schemaVersion: Int {
        (try? database.query("SELECT MAX(version) FROM schema_migrations").first?.int(0)) ?? 0
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try database.query("PRAGMA integrity_check").first?.string(0) ?? "no answer"
    }

    /// `('succeeded', 'failed', ...)`: the finished run statuses, for `status IN` and `NOT IN`.
    static let finishedStatuses = "(" + RunStatus.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }
        .joined(separator: ", ") + ")"

    // MARK: - JSON of params

    /// No params (most runs): "{}" without an encoder (a JSONEncoder's first use in a process
    /// costs more than the rest of recording a small run's row).
    static func encode(_ params: [String: Value]) -> String {
        guard !params.isEmpty else { return "{}" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(params)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Nil for an empty map (the column stays NULL).
    static func encodeMap<T: Encodable>(_ map: [String: T]) -> String? {
        guard !map.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(map)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Names as one `|`-separated text (`|a|b|`, `|` for none; NULL: not known). Param names
    /// are `[A-Za-z_][A-Za-z0-9_]*`, so `|` never occurs in one.
    static func encodeNames(_ names: Set<String>?) -> String? {
        names.map { "|" + $0.sorted().map { $0 + "|" }.joined() }
    }

    static func decodeNames(_ text: String?) -> Set<String>? {
        text.map { Set($0.split(separator: "|").map(String.init)) }
    }

    static func decodeMap<T: Decodable>(_ text: String?) -> [String: T] {
        guard let text, text != "{}" else { return [:] }
        return (try? JSONDecoder().decode([String: T].self, from: Data(text.utf8))) ?? [:]
    }

    static func decode(_ text: String) -> [String: Value] {
        guard text != "{}" else { return [:] }
        return (try? JSONDecoder().decode([String: Value].self, from: Data(text.utf8))) ?? [:]
    }
}
