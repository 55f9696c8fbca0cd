import Foundation
import PostgresNIO
import TokendStore

/// `imanage-tokend migrate`: copies every row of an SQLite database into an empty PostgreSQL one,
/// ciphertexts as they are (both stores seal alike, so the same key opens them), in one transaction:
/// a failure leaves the target as it was.
public enum SQLiteToPostgres {
    /// What was copied, table by table.
    public struct Copied: Sendable, Equatable {
        public var rows: [String: Int] = [:]
    }

    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case targetNotEmpty(location: String, grants: Int, events: Int)

        public var description: String {
            switch self {
            case let .targetNotEmpty(location, grants, events):
                "the database \(location) already holds \(grants) grants and \(events) events: migrate copies into an empty database only; "
                    + "name a new database (createdb) or drop this one's tables if it is a failed trial"
            }
        }
    }

    public static func copy(from source: SQLiteExport, to target: PostgresGrantStore) async throws -> Copied {
        try await target.transaction { db in
            let logger = target.logger
            let counts = try await db.query(
                "SELECT (SELECT count(*) FROM grants), (SELECT count(*) FROM events)", logger: logger
            ).first { (try $0.int64(0), try $0.int64(1)) } ?? (0, 0)
            guard counts == (0, 0) else {
                throw Refusal.targetNotEmpty(location: target.location, grants: Int(counts.0), events: Int(counts.1))
            }
            // The source's key check value replaces one a daemon may have left on the empty target:
            // the grants are sealed with the source's key, which is the one to use from now on.
            try await db.query("DELETE FROM store_meta", logger: logger)
            for table in ["organisations", "notifications", "notification_marks"] {
                try await db.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: logger)
            }
            var types: [String: [String: String]] = [:]
            for try await (table, column, type) in try await db.query("""
                SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
                WHERE table_schema = current_schema()
                """, logger: logger).decode((String, String, String).self) {
                types[table, default: [:]][column] = type
            }
            var copied = Copied()
            try await source.forEachBatch { table, columns, rows in
                let known = types[table] ?? [:]
                var binds = PostgresBindings(capacity: columns.count * rows.count)
                var tuples: [String] = []
                for row in rows {
                    var placeholders: [String] = []
                    for (column, value) in zip(columns, row) {
                        try bind(value, as: known[column] ?? "text", column: "\(table).\(column)", into: &binds)
                        placeholders.append("$\(binds.count)")
                    }
                    tuples.append("(\(placeholders.joined(separator: ", ")))")
                }
                let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) OVERRIDING SYSTEM VALUE VALUES \(tuples.joined(separator: ", "))"
                try await db.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
                copied.rows[table, default: 0] += rows.count
            }
            for table in ["grants", "events", "notifications"] {
                try await db.query(PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce((SELECT max(id) FROM \(table)), 0) + 1, false)
                    """), logger: logger)
            }
            return copied
        }
    }

    /// Binds one SQLite value for a column of PostgreSQL type `type`.
    private static func bind(_ value: SQLiteExport.Value, as type: String, column: String, into binds: inout PostgresBindings) throws {
        switch (value, type) {
        case (.null, _): binds.appendNull()
        case let (.integer(number), "boolean"): binds.append(number != 0)
        case let (.integer(number), "double precision"): binds.append(Double(number))
        case let (.integer(number), "integer"): binds.append(Int32(clamping: number))
        case let (.integer(number), _): binds.append(number)
        case let (.real(number), "bigint"), let (.real(number), "integer"): binds.append(Int64(number))
        case let (.real(number), _): binds.append(number)
        case let (.text(text), _): binds.append(text)
        case let (.blob(bytes), "bytea"): binds.append(ByteBuffer(bytes: bytes))
        case let (.blob(bytes), _): binds.append(String(decoding: bytes, as: UTF8.self))
        }
        _ = column
    }
}
