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
        // 2: the iManage customer each organisation is pinned to, and the key check value. An
        // organisation whose grants all name one customer is pinned to it; one whose grants name
        // several is left unpinned (status says so), as no rule can tell which is right.
        """
        CREATE TABLE organisations (
            name TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            pinned_at REAL NOT NULL,
            pinned_by TEXT NOT NULL
        );
        INSERT INTO organisations (name, customer_id, pinned_at, pinned_by)
            SELECT organisation, MIN(customer_id), MIN(created_at), 'the grants stored before this version'
            FROM grants WHERE customer_id IS NOT NULL AND customer_id <> ''
            GROUP BY organisation HAVING COUNT(DISTINCT customer_id) = 1;
        CREATE TABLE store_meta (
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL
        );
        """,
        // 3: the notifications outbox, written in the transaction of the status change that causes
        // a notification and deleted once delivered, and when each subject was last announced per
        // topic (so a flapping grant is announced at most once per `repeat_after_minutes`).
        """
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            event TEXT NOT NULL,
            organisation TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            status TEXT NOT NULL,
            previous_status TEXT,
            reason TEXT NOT NULL,
            authorized_by_email TEXT,
            command_done INTEGER NOT NULL DEFAULT 0,
            webhook_done INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE notification_marks (
            organisation TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            topic TEXT NOT NULL,
            announced_at REAL NOT NULL,
            PRIMARY KEY (organisation, kind, subject, topic)
        );
        """,
        // 4: token endpoints the daemon found down (one row each while it lasts), so `status`, which
        // reads the database, can say so: since when, the last error, the next probe.
        """
        CREATE TABLE endpoint_outages (
            endpoint TEXT PRIMARY KEY,
            organisations TEXT NOT NULL,
            since REAL NOT NULL,
            error_class TEXT NOT NULL,
            http_status INTEGER,
            error_detail TEXT NOT NULL,
            next_probe_at REAL,
            failed_probes INTEGER NOT NULL DEFAULT 0,
            waiting_grants INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL
        );
        """,
        // 5: notification ids are never used twice. Without AUTOINCREMENT, SQLite gave the next
        // notification the id of the last one delivered (and deleted), so a receiver that drops
        // duplicates by `notification_id`, as at-least-once delivery asks it to, dropped the
        // recovery after a problem (NotificationDaemonTests saw two notifications with id 1). The
        // new ids start above any given before the upgrade (milliseconds since 1970 at the upgrade),
        // as the outbox is usually empty then and would start again at 1.
        """
        CREATE TABLE notifications_unique_ids (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at REAL NOT NULL,
            event TEXT NOT NULL,
            organisation TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            status TEXT NOT NULL,
            previous_status TEXT,
            reason TEXT NOT NULL,
            authorized_by_email TEXT,
            command_done INTEGER NOT NULL DEFAULT 0,
            webhook_done INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO sqlite_sequence (name, seq)
            VALUES ('notifications_unique_ids', max(coalesce((SELECT max(id) FROM notifications), 0),
                                                    CAST(strftime('%s', 'now') AS INTEGER) * 1000));
        INSERT INTO notifications_unique_ids (id, created_at, event, organisation, kind, subject, status, previous_status,
                                              reason, authorized_by_email, command_done, webhook_done, attempts)
            SELECT id, created_at, event, organisation, kind, subject, status, previous_status,
                   reason, authorized_by_email, command_done, webhook_done, attempts FROM notifications;
        DROP TABLE notifications;
        ALTER TABLE notifications_unique_ids RENAME TO notifications;
        """,
    ]

    /// Brings the database up to the newest schema, one transaction per migration. The version is
    /// read again inside each write transaction: several processes opening a new database at once
    /// (a daemon and `import`, or parallel imports) must not run the same migration twice.
    static func migrate(_ db: SQLiteConnection) throws(StoreError) {
        while true {
            let applied: Bool
            do {
                applied = try db.transaction { () throws -> Bool in
                    let current = Int(try db.scalarInt("PRAGMA user_version"))
                    guard current <= all.count else {
                        throw StoreError.newerSchema(path: db.path, found: current, known: all.count)
                    }
                    guard current < all.count else { return false }
                    try db.execute(all[current])
                    try db.execute("PRAGMA user_version = \(current + 1)")
                    return true
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw .sqlite(code: -1, message: "\(error)", path: db.path)
            }
            if !applied { return }
        }
    }
}
