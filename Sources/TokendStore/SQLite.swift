import CSQLite
import Foundation

/// A thin, typed wrapper over one libsqlite3 connection.
///
/// Hand-written on purpose: the store uses a dozen statements and needs exact control of
/// transactions (`BEGIN IMMEDIATE`, savepoints, `synchronous=FULL`) and of file modes, which a
/// full ORM would hide. Not thread-safe: each connection is used by one thread at a time
/// (the store guards its connections), hence `@unchecked Sendable`.
final class SQLiteConnection: @unchecked Sendable {
    private(set) var handle: OpaquePointer?
    let path: String
    /// Statements of the hot paths, prepared once and kept (parsing SQL was a tenth of a refresh's CPU).
    private var statementCache: [String: SQLiteStatement] = [:]
    /// Cached statements handed out since the last `resetCachedStatements()`.
    private var statementsInUse: [SQLiteStatement] = []

    init(path: String, readOnly: Bool, busyTimeout: TimeInterval = 10) throws(StoreError) {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError.cannotOpen(path: path, reason: message)
        }
        handle = db
        sqlite3_busy_timeout(db, Int32(busyTimeout * 1000))
    }

    deinit {
        statementsInUse = []
        statementCache = [:]
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(StoreError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw StoreError.sqlite(code: rc, message: message, path: path)
        }
    }

    func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc) }
        return SQLiteStatement(statement, connection: self)
    }

    /// The statement of `sql`, prepared on first use and kept for the life of the connection.
    /// Whoever hands the connection out (a read, a write job) calls `resetCachedStatements()`
    /// when done, so no half-stepped statement keeps a read snapshot open.
    func cached(_ sql: String) throws(StoreError) -> SQLiteStatement {
        let statement: SQLiteStatement
        if let known = statementCache[sql] {
            statement = known
        } else {
            statement = try prepare(sql)
            statementCache[sql] = statement
        }
        statementsInUse.append(statement)
        return statement
    }

    /// Runs a statement that returns no rows (`BEGIN IMMEDIATE`, `COMMIT`, savepoints) from the cache.
    func executeCached(_ sql: String) throws(StoreError) {
        let statement = try cached(sql)
        defer { statement.reset() }
        try statement.run()
    }

    /// Resets every cached statement handed out since the last call: their read snapshots end.
    func resetCachedStatements() {
        for statement in statementsInUse { statement.reset() }
        statementsInUse.removeAll(keepingCapacity: true)
    }

    /// Statements kept in the cache (for tests).
    var cachedStatementCount: Int { statementCache.count }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    func error(_ rc: Int32) -> StoreError {
        StoreError.sqlite(code: rc, message: String(cString: sqlite3_errmsg(handle)), path: path)
    }

    /// Reads a single integer (`PRAGMA user_version`, `SELECT count(*)`…).
    func scalarInt(_ sql: String) throws(StoreError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    /// Switches the database to WAL mode. A new database is still in rollback mode, where two
    /// connections that both read it and then both ask for the exclusive lock the switch needs
    /// would deadlock, so SQLite answers one of them `SQLITE_BUSY` at once, without waiting in the
    /// busy handler (found by `GrantStoreTests.concurrentFirstOpen`: parallel imports of a first
    /// grant). That answer is retried here, for as long as the busy timeout would have waited.
    func enableWriteAheadLog(waitingUpTo timeout: TimeInterval = 10) throws(StoreError) {
        let deadline = Date().addingTimeInterval(timeout)
        var pause: UInt32 = 2_000
        while true {
            do {
                try execute("PRAGMA journal_mode = WAL")
                return
            } catch let error {
                guard case .sqlite(let code, _, _) = error, code & 0xff == SQLITE_BUSY, Date() < deadline else { throw error }
                usleep(pause)
                pause = min(pause * 2, 50_000)
            }
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` … `COMMIT`, rolling back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A prepared statement; binds by 1-based index and reads columns by 0-based index.
final class SQLiteStatement {
    let statement: OpaquePointer
    private let connection: SQLiteConnection
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(statement) }

    @discardableResult
    func bind(_ values: (any SQLiteBindable)?...) throws(StoreError) -> SQLiteStatement {
        try bind(values)
    }

    @discardableResult
    func bind(_ values: [(any SQLiteBindable)?]) throws(StoreError) -> SQLiteStatement {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case nil: rc = sqlite3_bind_null(statement, index)
            case let value as Int64: rc = sqlite3_bind_int64(statement, index, value)
            case let value as Int: rc = sqlite3_bind_int64(statement, index, Int64(value))
            case let value as Double: rc = sqlite3_bind_double(statement, index, value)
            case let value as Date: rc = sqlite3_bind_double(statement, index, value.timeIntervalSince1970)
            case let value as String: rc = sqlite3_bind_text(statement, index, value, -1, Self.transient)
            case let value as [UInt8]:
                rc = value.withUnsafeBytes {
                    sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient)
                }
            default: rc = SQLITE_MISMATCH
            }
            guard rc == SQLITE_OK else { throw connection.error(rc) }
        }
        return self
    }

    /// Ends the statement's current run (and any read snapshot it holds); bindings stay.
    func reset() { sqlite3_reset(statement) }

    /// Advances to the next row; `false` when done.
    func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(statement)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(rc)
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws(StoreError) {
        while try step() {}
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func int(_ column: Int32) -> Int? { isNull(column) ? nil : Int(sqlite3_column_int64(statement, column)) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
    func date(_ column: Int32) -> Date? {
        isNull(column) ? nil : Date(timeIntervalSince1970: sqlite3_column_double(statement, column))
    }
    func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(statement, column) else { return nil }
        return String(cString: text)
    }
    func bytes(_ column: Int32) -> [UInt8]? {
        guard !isNull(column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// Values the wrapper can bind.
protocol SQLiteBindable {}
extension Int64: SQLiteBindable {}
extension Int: SQLiteBindable {}
extension Double: SQLiteBindable {}
extension Date: SQLiteBindable {}
extension String: SQLiteBindable {}
extension Array: SQLiteBindable where Element == UInt8 {}
