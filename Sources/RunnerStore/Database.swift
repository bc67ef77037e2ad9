import CSQLite
import FoundationEssentials
import RunnerCore

/// A thin wrapper over one SQLite connection: statements, bindings, transactions. The only
/// code that touches the SQLite C API.
public final class Database: @unchecked Sendable {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable, TransientFailure {
        public var code: Int32
        public var message: String
        public var description: String { "sqlite error \(code): \(message)" }

        /// A failure that may pass by itself: another process holds the database (BUSY,
        /// LOCKED), the disk is full or failing (FULL, IOERR), the file cannot be opened now
        /// (CANTOPEN, PROTOCOL). Worth retrying; never evidence that a row does not exist.
        public var isTransient: Bool {
            switch code & 0xFF {
            case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PROTOCOL, SQLITE_NOMEM: true
            default: false
            }
        }
    }

    private var handle: OpaquePointer?
    /// The file did not exist before this connection made it (see `settle`).
    public private(set) var isNew = false
    private var statements: [String: OpaquePointer] = [:]
    private let lock = Lock(recursive: true)
    /// The outcome of the last write transaction (and of reads that failed transiently).
    public let health = StoreHealth()
    /// Transactions open on this connection (a `read` or `write` inside another joins it).
    private var depth = 0
    private var depthIsWrite = false
    public let path: String

    /// Opens (creating) the database in WAL mode with `synchronous=NORMAL`: a process crash
    /// (kill -9) loses nothing committed; a power loss may lose the last commits.
    public init(path: String) throws {
        self.path = path
        // A new file: made without a sync per step of its making (switching a new database to
        // WAL alone costs four fsyncs, the WAL's creation two more; docs/DECISIONS.md, Store).
        // `settle()` makes it durable once it is complete.
        let isNew = !FileManager.default.fileExists(atPath: path)
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &db, flags, nil)
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw Error(code: status, message: "\(message) (\(path))")
        }
        handle = db
        sqlite3_busy_timeout(db, busyTimeout)
        if isNew { try execute("PRAGMA synchronous=OFF") }
        try execute("PRAGMA journal_mode=WAL")
        if !isNew { try execute("PRAGMA synchronous=NORMAL") }
        self.isNew = isNew
        try execute("PRAGMA foreign_keys=ON")
        // 1 MiB of page cache (SQLite's default is 2): the runner's reads are a run at a time,
        // mostly once; at 10,000 steps the second megabyte showed in the peak memory.
        try execute("PRAGMA cache_size=-1024")
        // Temporary b-trees (sorting a run's attempts) in memory, not in a temporary file.
        try execute("PRAGMA temp_store=MEMORY")
        // A short-lived CLI would otherwise pay a checkpoint and two fsyncs at every exit;
        // writers checkpoint automatically every 1,000 pages.
        _ = runner_sqlite_no_checkpoint_on_close(db)
    }

    /// For a database this connection made, once its schema is in: the usual
    /// `synchronous=NORMAL` from here on. What was written before is an empty database: a
    /// power loss meanwhile comes back, through SQLite's own recovery (a hot journal rolled
    /// back, WAL frames checked by checksum), as an empty or schema-less file, which the next
    /// start migrates again; the first checkpoint syncs it all. A process crash loses nothing.
    public func settle() throws {
        guard isNew else { return }
        try execute("PRAGMA synchronous=NORMAL")
        isNew = false
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close(handle)
    }

    private func error(_ status: Int32) -> Error {
        Error(code: status, message: handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed")
    }

    /// Runs SQL without results (one or more statements).
    public func execute(_ sql: String) throws {
        lock.lock()
        defer { lock.unlock() }
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        if status != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw Error(code: status, message: text)
        }
    }

    /// A write transaction, taken with BEGIN IMMEDIATE so it never fails half-way with BUSY.
    /// Whatever fails (the BEGIN, the body, the COMMIT), the connection is left outside any
    /// transaction, ready for the next one. A `write` inside another joins it.
    /// `waitingAtMost`: how long its BEGIN waits for another connection's lock (milliseconds;
    /// nil: the connection's busy timeout) — a caller that retries with its own backoff waits
    /// briefly, and does not hold the connection meanwhile.
    @discardableResult
    public func write<T>(waitingAtMost milliseconds: Int32? = nil, _ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if depth > 0 {
            guard depthIsWrite else { throw Error(code: SQLITE_MISUSE, message: "a write inside a read transaction") }
            return try body()
        }
        do {
            if let milliseconds {
                sqlite3_busy_timeout(handle, milliseconds)
                defer { sqlite3_busy_timeout(handle, busyTimeout) }
                try run("BEGIN IMMEDIATE")
            } else {
                try run("BEGIN IMMEDIATE")  // prepared once, like every statement (sqlite3_exec parses each time)
            }
        } catch {
            note(error)
            throw error
        }
        depth = 1
        depthIsWrite = true
        defer { depth = 0; depthIsWrite = false }
        do {
            let result = try body()
            try run("COMMIT")
            health.recordSuccess()
            return result
        } catch {
            rollBack()
            note(error)
            throw error
        }
    }

    /// A transient failure makes the store unhealthy until a write succeeds again.
    private func note(_ error: any Swift.Error) {
        if error.isTransientStoreFailure { health.recordFailure("\(error)") }
    }

    /// A read: one consistent snapshot. A failed COMMIT (it can only end a snapshot here) is
    /// rolled back, so the connection never stays inside the transaction: a COMMIT swallowed
    /// once made every later BEGIN fail ("cannot start a transaction within a transaction").
    public func read<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if depth > 0 { return try body() }
        try run("BEGIN")
        depth = 1
        defer { depth = 0 }
        let result: T
        do {
            result = try body()
        } catch {
            rollBack()
            note(error)
            throw error
        }
        do { try run("COMMIT") } catch { rollBack() }
        return result
    }

    /// Ends whatever transaction is open (SQLite may have ended it already: an error like
    /// SQLITE_FULL rolls back by itself).
    private func rollBack() {
        guard let handle, sqlite3_get_autocommit(handle) == 0 else { return }
        for statement in statements.values { sqlite3_reset(statement) }
        _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
    }

    /// Whether the connection is outside any transaction (what every operation leaves).
    public var isClean: Bool {
        lock.withLock { handle.map { sqlite3_get_autocommit($0) != 0 } ?? true }
    }

    /// How long a statement waits for another connection's lock before it fails with BUSY.
    public func setBusyTimeout(milliseconds: Int32) {
        lock.withLock {
            busyTimeout = milliseconds
            _ = sqlite3_busy_timeout(handle, milliseconds)
        }
    }
    private var busyTimeout: Int32 = 5_000

    /// Runs a statement with bindings; returns changed rows.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        let statement = try prepare(sql, values)
        // Reset once stepped, whatever the outcome: a statement left mid-way (a BEGIN IMMEDIATE
        // that failed with BUSY stays pending as a writer) made the next COMMIT fail with "SQL
        // statements in progress".
        defer { sqlite3_reset(statement) }
        let status = sqlite3_step(statement)
        guard status == SQLITE_DONE || status == SQLITE_ROW else { throw error(status) }
        return Int(sqlite3_changes(handle))
    }

    /// Rows of a query, each as its column values.
    public func query(_ sql: String, _ values: [SQLValue] = []) throws -> [Row] {
        lock.lock()
        defer { lock.unlock() }
        let statement = try prepare(sql, values)
        defer { sqlite3_reset(statement) }
        var rows: [Row] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw error(status) }
            rows.append(Row(statement: statement))
        }
        return rows
    }

    /// Each row of a query, read in place as it is reached (a large result is never held
    /// twice: as rows and as what they become; no row is copied into values first).
    public func forEachRow(_ sql: String, _ values: [SQLValue] = [], _ body: (RowCursor) throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        let statement = try prepare(sql, values)
        defer { sqlite3_reset(statement) }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw error(status) }
            try body(RowCursor(statement: statement))
        }
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    private func prepare(_ sql: String, _ values: [SQLValue]) throws -> OpaquePointer {
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        } else {
            var prepared: OpaquePointer?
            let status = sqlite3_prepare_v2(handle, sql, -1, &prepared, nil)
            guard status == SQLITE_OK, let prepared else { throw error(status) }
            statements[sql] = prepared
            statement = prepared
        }
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(statement, position)
            case .integer(let i): status = sqlite3_bind_int64(statement, position, i)
            case .real(let d): status = sqlite3_bind_double(statement, position, d)
            case .text(let s): status = sqlite3_bind_text(statement, position, s, -1, runner_sqlite_transient)
            }
            guard status == SQLITE_OK else { throw error(status) }
        }
        return statement
    }
}

public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public static func int(_ i: Int?) -> SQLValue { i.map { .integer(Int64($0)) } ?? .null }
    public static func string(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    public static func date(_ d: Date?) -> SQLValue { d.map { .real($0.timeIntervalSince1970) } ?? .null }
    public static func bool(_ b: Bool) -> SQLValue { .integer(b ? 1 : 0) }
    public static func int32(_ i: Int32?) -> SQLValue { i.map { .integer(Int64($0)) } ?? .null }
}

/// The current row of a statement being stepped, read column by column; valid only inside
/// the `forEachRow` body it is given to. Reads as `Row` does (text of a number, number of text).
public struct RowCursor {
    fileprivate let statement: OpaquePointer

    public func string(_ i: Int) -> String? {
        switch sqlite3_column_type(statement, Int32(i)) {
        case SQLITE_NULL: return nil
        case SQLITE_INTEGER: return String(sqlite3_column_int64(statement, Int32(i)))
        case SQLITE_FLOAT: return String(sqlite3_column_double(statement, Int32(i)))
        default:
            guard let text = sqlite3_column_text(statement, Int32(i)) else { return nil }
            let count = Int(sqlite3_column_bytes(statement, Int32(i)))
            return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
        }
    }

    public func int(_ i: Int) -> Int? {
        switch sqlite3_column_type(statement, Int32(i)) {
        case SQLITE_NULL: return nil
        case SQLITE_INTEGER: return Int(sqlite3_column_int64(statement, Int32(i)))
        case SQLITE_FLOAT: return Int(sqlite3_column_double(statement, Int32(i)))
        default: return string(i).flatMap { Int($0) }
        }
    }

    public func date(_ i: Int) -> Date? {
        switch sqlite3_column_type(statement, Int32(i)) {
        case SQLITE_INTEGER, SQLITE_FLOAT: return Date(timeIntervalSince1970: sqlite3_column_double(statement, Int32(i)))
        default: return nil
        }
    }

    public func bool(_ i: Int) -> Bool { int(i).map { $0 != 0 } ?? false }
}

/// One result row, copied out of the statement.
public struct Row: Sendable {
    private var values: [SQLValue]

    init(statement: OpaquePointer) {
        let count = sqlite3_column_count(statement)
        values = (0..<count).map { column in
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
            case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
            case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
            default: return .null
            }
        }
    }

    public subscript(_ index: Int) -> SQLValue { values[index] }

    public func string(_ i: Int) -> String? {
        switch values[i] {
        case .text(let s): s
        case .integer(let n): String(n)
        case .real(let d): String(d)
        case .null: nil
        }
    }

    public func int(_ i: Int) -> Int? {
        switch values[i] {
        case .integer(let n): Int(n)
        case .real(let d): Int(d)
        case .text(let s): Int(s)
        case .null: nil
        }
    }

    public func date(_ i: Int) -> Date? {
        switch values[i] {
        case .real(let d): Date(timeIntervalSince1970: d)
        case .integer(let n): Date(timeIntervalSince1970: TimeInterval(n))
        default: nil
        }
    }

    public func bool(_ i: Int) -> Bool { int(i).map { $0 != 0 } ?? false }
}
