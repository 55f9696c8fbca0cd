import CSQLite
import Foundation

/// The rows of an SQLite database exactly as stored (ciphertexts untouched), table by table, for
/// `imanage-tokend migrate` to copy into PostgreSQL. Reads one snapshot (one read transaction).
public struct SQLiteExport {
    /// One stored value, by SQLite's storage class.
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    /// The tables copied, in an order that keeps every reference valid.
    public static let tables = ["store_meta", "organisations", "grants", "events", "notifications", "notification_marks"]

    private let connection: SQLiteConnection

    /// Opens `path` for reading; the schema must be the current one (`SQLiteGrantStore` checks it).
    public init(path: String) throws(StoreError) {
        _ = try SQLiteGrantStore(path: path, key: nil, mode: .readOnly)
        connection = try SQLiteConnection(path: path, readOnly: true)
    }

    /// Calls `body` with the column names of `table` and its rows, `batch` at a time, all in one snapshot.
    public func forEachBatch(
        of tables: [String] = tables, batch: Int = 500,
        _ body: (_ table: String, _ columns: [String], _ rows: [[Value]]) async throws -> Void
    ) async throws {
        try connection.execute("BEGIN")
        defer { try? connection.execute("COMMIT") }
        for table in tables where Self.tables.contains(table) {
            let statement = try connection.prepare("SELECT * FROM \(table) ORDER BY rowid")
            var columns: [String] = []
            var rows: [[Value]] = []
            while try statement.step() {
                if columns.isEmpty { columns = statement.columnNames }
                rows.append(statement.values)
                if rows.count == batch {
                    try await body(table, columns, rows)
                    rows.removeAll(keepingCapacity: true)
                }
            }
            if !rows.isEmpty { try await body(table, columns, rows) }
        }
    }

    /// Rows in `table`.
    public func count(_ table: String) throws(StoreError) -> Int {
        guard Self.tables.contains(table) else { return 0 }
        return Int(try connection.scalarInt("SELECT count(*) FROM \(table)"))
    }
}

extension SQLiteStatement {
    var columnNames: [String] {
        (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
    }

    var values: [SQLiteExport.Value] {
        (0..<sqlite3_column_count(statement)).map { column in
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
            case SQLITE_FLOAT: .real(sqlite3_column_double(statement, column))
            case SQLITE_TEXT: .text(string(column) ?? "")
            case SQLITE_BLOB: .blob(bytes(column) ?? [])
            default: .null
            }
        }
    }
}
