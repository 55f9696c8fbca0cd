/// The schema, as an ordered list of migrations; `PRAGMA user_version` says how many have run.
enum Migrations {
    static let all: [String] = [
        // 1: grants and their status events.
        """
        CREATE TABLE grants (
            id INTEGER PRIMARY KEY,
            organisation TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('library', 'user')),
            subject TEXT NOT NULL,
            status TEXT NOT NULL,
            user_id TEXT, user_email TEXT, user_name TEXT, customer_id TEXT,
            refresh_token BLOB,
            refresh_token_fingerprint TEXT,
            refresh_token_issued_at REAL,
            refresh_token_expires_at REAL,
            access_token BLOB,
            access_issued_at REAL,
            access_expires_at REAL,
            next_refresh_at REAL,
            last_refresh_at REAL,
            last_attempt_at REAL,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_error_class TEXT,
            last_http_status INTEGER,
            nrtadmin_checked_at REAL,
            in_flight_since REAL,
            in_flight_owner TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (organisation, kind, subject)
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            organisation TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            status TEXT NOT NULL,
            previous_status TEXT,
            error_class TEXT,
            http_status INTEGER,
            message TEXT NOT NULL
        );
        CREATE INDEX events_by_grant ON events (organisation, kind, subject, at);
        CREATE INDEX events_by_time ON events (at);
        """,
    ]

    /// Brings the database up to the newest schema, one transaction per migration.
    static func migrate(_ db: SQLiteConnection) throws(StoreError) {
        let current = Int(try db.scalarInt("PRAGMA user_version"))
        guard current <= all.count else {
            throw .newerSchema(path: db.path, found: current, known: all.count)
        }
        for version in current..<all.count {
            do {
                try db.transaction {
                    try db.execute(all[version])
                    try db.execute("PRAGMA user_version = \(version + 1)")
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw .sqlite(code: -1, message: "\(error)", path: db.path)
            }
        }
    }
}
