import CSQLite
import Foundation
import TokendPolicy

/// The grants and their history, in one SQLite file (WAL mode, mode 0600), tokens encrypted.
///
/// Writes go through one group-committing writer with `synchronous=FULL`, so a write that
/// returns is durable. Reads use their own connection and see committed data only, so
/// `status` can read while the daemon writes.
public final class SQLiteGrantStore: @unchecked Sendable {
    public enum Mode: Sendable { case readWrite, readOnly }

    public let path: String
    /// `nil` when opened without the key: records, events and pins can be read, tokens cannot.
    private let optionalCipher: TokenCipher?
    private let writer: GroupCommitWriter?
    /// Refresh outcomes expected (claims out): the writer waits up to ``outcomeLinger`` for them.
    let outcomesExpected = ExpectedWrites()
    /// How long a commit may wait for outcomes on their way, so a batch's outcomes share commits.
    static let outcomeLinger: TimeInterval = 0.0015
    private let reader: SQLiteConnection
    private let readLock = NSLock()
    /// Whether status changes queue notifications, and who is told when they do (SQLiteGrantStore+Outbox).
    let outbox = NotificationOutbox()
    /// Whether opening found the file readable by others and narrowed it to 0600.
    public private(set) var tightenedPermissions = false
    /// When the backup this database was restored from was taken (`nil`: not a restored copy).
    public private(set) var restoredBackupTakenAt: Date?

    /// Opens (creating if needed, in read-write mode) the database at `path`.
    ///
    /// With a key, the key is checked against the database's key check value first: a key that
    /// does not match throws `wrongKey`, and nothing is written. `key: nil` (read-only only) opens
    /// the database for what is not encrypted: `status` and `history` need no key.
    public init(path: String, key: [UInt8]?, mode: Mode = .readWrite) throws(StoreError) {
        self.path = path
        optionalCipher = try key.map { (bytes) throws(StoreError) in try TokenCipher(keyBytes: bytes) }
        switch mode {
        case .readWrite:
            guard let cipher = optionalCipher else { throw .noKey(path: path) }
            tightenedPermissions = try Self.prepareFile(path)
            let connection = try SQLiteConnection(path: path, readOnly: false)
            try connection.enableWriteAheadLog()
            try connection.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
            try Migrations.migrate(connection)
            try KeyCheck.verify(cipher, connection, writing: true)
            let expected = outcomesExpected
            writer = GroupCommitWriter(connection: connection, linger: Self.outcomeLinger, expectedWrites: { expected.value })
        case .readOnly:
            guard FileManager.default.fileExists(atPath: path) else {
                throw .cannotOpen(path: path, reason: "no such file (has the daemon ever run with this configuration?)")
            }
            writer = nil
        }
        reader = try SQLiteConnection(path: path, readOnly: mode == .readOnly)
        try reader.execute("PRAGMA query_only = ON")
        let version = Int(try reader.scalarInt("PRAGMA user_version"))
        if version != Migrations.all.count {
            if version > Migrations.all.count {
                throw .newerSchema(path: path, found: version, known: Migrations.all.count)
            }
            throw .cannotOpen(path: path, reason: "the database is at schema \(version) of \(Migrations.all.count): start the daemon once to upgrade it")
        }
        if mode == .readOnly, let cipher = optionalCipher { try KeyCheck.verify(cipher, reader, writing: false) }
        restoredBackupTakenAt = try StoreBackup.takenAt(reader)
    }

    /// The token cipher; opened without a key, every use of it says so.
    var cipher: TokenCipher {
        get throws(StoreError) {
            guard let optionalCipher else { throw .noKey(path: path) }
            return optionalCipher
        }
    }

    /// Creates the file 0600 (and its directory 0700) before SQLite does, or narrows an existing one.
    private static func prepareFile(_ path: String) throws(StoreError) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .cannotOpen(path: path, reason: "cannot create its directory: \(error.localizedDescription)")
            }
        }
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        giveNewFileToDirectoryOwner(fd, file: info, directory: directory.isEmpty ? "." : directory)
        try repairCompanionFiles(of: path)
        if info.st_mode & 0o077 != 0 {
            guard fchmod(fd, 0o600) == 0 else {
                throw .cannotOpen(path: path, reason: "it is readable by others and cannot be narrowed to 0600")
            }
            return true
        }
        return false
    }

    /// SQLite gives a new -wal or -shm file the database's mode at that moment. A `status` run while
    /// the database was read-only (found by the fault matrix) leaves a -shm of mode 0400 behind, and
    /// the daemon then fails with "attempt to write a readonly database" even after the database's
    /// own mode is mended. Files of ours are set to 0600 again; others that we cannot write are
    /// named, with what to do.
    private static func repairCompanionFiles(of path: String) throws(StoreError) {
        for companion in [path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(companion, &info) == 0 else { continue }
            if info.st_uid == geteuid() {
                if info.st_mode & 0o777 != 0o600, chmod(companion, 0o600) != 0 {
                    throw .cannotOpen(path: companion, reason: "its mode cannot be set to 0600: \(String(cString: strerror(errno)))")
                }
            } else if access(companion, R_OK | W_OK) != 0 {
                throw .cannotOpen(
                    path: companion,
                    reason: "it belongs to uid \(info.st_uid) (mode \(String(info.st_mode & 0o777, radix: 8))) and this user cannot write it: "
                        + "with the daemon stopped, give it to the daemon's user or remove it")
            }
        }
    }

    /// Run as root (`sudo imanage-tokend import` before the daemon's first start), a new, empty
    /// database would belong to root and the daemon's own user could not open it. It is given to
    /// the owner of its directory (the service's StateDirectory), as SQLite does for its -wal file.
    private static func giveNewFileToDirectoryOwner(_ fd: Int32, file: stat, directory: String) {
        guard geteuid() == 0, file.st_size == 0 else { return }
        var owner = stat()
        guard stat(directory, &owner) == 0, owner.st_uid != file.st_uid || owner.st_gid != file.st_gid else { return }
        _ = fchown(fd, owner.st_uid, owner.st_gid)
    }

    /// Number of durable commits and the writes they carried, since opening (for the benchmark).
    public var commitStatistics: (commits: Int, writes: Int) {
        (writer?.commits ?? 0, writer?.writes ?? 0)
    }

    /// Statements kept prepared by the writer's and the reader's connections (for tests).
    var cachedStatementCounts: (writer: Int, reader: Int) {
        (writer?.cachedStatementCount ?? 0, (try? read { $0.cachedStatementCount }) ?? 0)
    }

    // MARK: Plumbing for the extensions

    func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        readLock.lock()
        defer {
            reader.resetCachedStatements()
            readLock.unlock()
        }
        return try body(reader)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        guard let writer else {
            throw StoreError.cannotOpen(path: path, reason: "opened read-only")
        }
        return try await writer.write(body)
    }
}

// MARK: Reading

extension SQLiteGrantStore {
    static var recordColumns: String { GrantColumns.record }

    static func record(from row: SQLiteStatement) -> GrantRecord {
        let key = GrantKey(
            organisation: row.string(1) ?? "",
            kind: GrantKind(rawValue: row.string(2) ?? "") ?? .user,
            subject: row.string(3) ?? "")
        var identity: AuthorizedIdentity?
        if let userID = row.string(5) {
            identity = AuthorizedIdentity(
                userID: userID, email: row.string(6) ?? "", name: row.string(7) ?? "", customerID: row.string(8) ?? "")
        }
        return GrantRecord(
            id: row.int64(0), key: key,
            status: GrantStatus(rawValue: row.string(4) ?? "") ?? .unauthorized,
            authorizedBy: identity,
            accessIssuedAt: row.date(9), accessExpiresAt: row.date(10), nextRefreshAt: row.date(11),
            refreshTokenIssuedAt: row.date(12), refreshTokenExpiresAt: row.date(13),
            refreshTokenFingerprint: row.string(14), lastRefreshAt: row.date(15), lastAttemptAt: row.date(16),
            consecutiveFailures: row.int(17) ?? 0, lastError: row.string(18), lastErrorClass: row.string(19),
            lastHTTPStatus: row.int(20), nrtadminCheckedAt: row.date(21), inFlightSince: row.date(22),
            inFlightOwner: row.string(23), hasRefreshToken: row.int64(24) != 0,
            createdAt: row.date(25) ?? .distantPast, updatedAt: row.date(26) ?? .distantPast)
    }

    /// The grant of `key`, if there is one.
    public func record(for key: GrantKey) throws -> GrantRecord? {
        try read { db in
            let row = try db.cached("SELECT \(Self.recordColumns) FROM grants WHERE organisation = ? AND kind = ? AND subject = ?")
                .bind(key.organisation, key.kind.rawValue, key.subject)
            return try row.step() ? Self.record(from: row) : nil
        }
    }

    public func record(id: Int64) throws -> GrantRecord? {
        try read { db in
            let row = try db.cached("SELECT \(Self.recordColumns) FROM grants WHERE id = ?").bind(id)
            return try row.step() ? Self.record(from: row) : nil
        }
    }

    /// Every grant, optionally of one organisation and kind, ordered by organisation, kind, subject.
    public func records(organisation: String? = nil, kind: GrantKind? = nil) throws -> [GrantRecord] {
        try read { db in
            let row = try db.prepare("""
                SELECT \(Self.recordColumns) FROM grants
                WHERE (?1 IS NULL OR organisation = ?1) AND (?2 IS NULL OR kind = ?2)
                ORDER BY organisation, kind, subject
                """).bind(organisation, kind?.rawValue)
            var result: [GrantRecord] = []
            while try row.step() { result.append(Self.record(from: row)) }
            return result
        }
    }

    /// What the scheduler needs of each grant, streamed so a million grants need no array of records.
    public func forEachScheduleEntry(_ body: (ScheduleEntry) -> Void) throws {
        try read { db in
            let row = try db.prepare("""
                SELECT id, organisation, status, next_refresh_at, access_expires_at, in_flight_since IS NOT NULL
                FROM grants
                """)
            while try row.step() {
                body(ScheduleEntry(
                    id: row.int64(0), organisation: row.string(1) ?? "",
                    status: GrantStatus(rawValue: row.string(2) ?? "") ?? .unauthorized,
                    nextRefreshAt: row.date(3), accessExpiresAt: row.date(4), refreshWasInFlight: row.int64(5) != 0))
            }
        }
    }

    /// The decrypted tokens of a grant (for the token API and the refresher; never for display).
    public func tokens(for key: GrantKey) throws -> GrantTokens? {
        try read { db in
            let row = try db.cached("SELECT refresh_token, access_token FROM grants WHERE organisation = ? AND kind = ? AND subject = ?")
                .bind(key.organisation, key.kind.rawValue, key.subject)
            guard try row.step() else { return nil }
            return try decryptTokens(refresh: row.bytes(0), access: row.bytes(1), key: key)
        }
    }

    func decryptTokens(refresh: [UInt8]?, access: [UInt8]?, key: GrantKey) throws(StoreError) -> GrantTokens {
        GrantTokens(
            refreshToken: try refresh.map { ciphertext throws(StoreError) in try cipher.open(ciphertext, for: key, field: .refreshToken) },
            accessToken: try access.map { ciphertext throws(StoreError) in try cipher.open(ciphertext, for: key, field: .accessToken) })
    }

    /// Status changes, oldest first, filtered.
    public func events(_ filter: EventFilter = EventFilter()) throws -> [GrantEvent] {
        try read { db in
            let row = try db.prepare("""
                SELECT id, at, organisation, kind, subject, status, previous_status, error_class, http_status, message
                FROM (SELECT * FROM events
                      WHERE (?1 IS NULL OR organisation = ?1) AND (?2 IS NULL OR kind = ?2)
                        AND (?3 IS NULL OR subject = ?3) AND (?4 IS NULL OR at >= ?4)
                      ORDER BY at DESC, id DESC LIMIT ?5)
                ORDER BY at, id
                """).bind(filter.organisation, filter.kind?.rawValue, filter.subject, filter.since, filter.limit ?? -1)
            var result: [GrantEvent] = []
            while try row.step() {
                result.append(GrantEvent(
                    id: row.int64(0), at: row.date(1) ?? .distantPast,
                    key: GrantKey(
                        organisation: row.string(2) ?? "", kind: GrantKind(rawValue: row.string(3) ?? "") ?? .user,
                        subject: row.string(4) ?? ""),
                    status: GrantStatus(rawValue: row.string(5) ?? "") ?? .unauthorized,
                    previousStatus: row.string(6).flatMap(GrantStatus.init(rawValue:)),
                    errorClass: row.string(7), httpStatus: row.int(8), message: row.string(9) ?? ""))
            }
            return result
        }
    }
}
