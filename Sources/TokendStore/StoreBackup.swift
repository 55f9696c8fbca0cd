import CSQLite
import Foundation
import TokendPolicy

/// What `backup` wrote and checked.
public struct BackupSummary: Sendable, Equatable {
    public var path: String
    /// When the copy was taken (after SQLite's backup finished): every refresh it holds happened before.
    public var takenAt: Date
    public var grants: Int
    public var events: Int
}

/// Why a backup was not written. A failed backup leaves nothing at the destination.
public enum BackupError: Error, Equatable, CustomStringConvertible {
    case destinationExists(path: String)
    case cannotCreate(path: String, reason: String)
    case copyFailed(reason: String)
    case verificationFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .destinationExists(path):
            "\(path) exists already: give another file, or --force to replace it"
        case let .cannotCreate(path, reason):
            "cannot create \(path): \(reason) (check that its directory exists and is writable by this user)"
        case let .copyFailed(reason):
            "the backup failed: \(reason); nothing was written, try again"
        case let .verificationFailed(path, reason):
            "the copy \(path) did not verify: \(reason); nothing was kept, try again"
        }
    }
}

/// A consistent copy of a live database with SQLite's online backup API, and the marker that
/// says a database is such a copy.
///
/// The copy is written to a new file of mode 0600 beside the destination (created so, never wider
/// for a moment), marked with when it was taken, set to a single-file journal, verified
/// (`integrity_check`, the key check value and every token opened with the key), and only then
/// put in place: linked (refusing an existing file) or, with `overwrite`, renamed over it.
public enum StoreBackup {
    /// The `store_meta` row of a copy: when the backup was taken (seconds since 1970, as REAL).
    static let markerName = "backup_taken_at"
    /// How long the copy waits in all for a database another process holds locked.
    static let busyRetries = 200

    public static func backup(
        database source: String, key: [UInt8], to destination: String, overwrite: Bool, now: () -> Date = { Date() }
    ) throws -> BackupSummary {
        let cipher = try TokenCipher(keyBytes: key)
        guard FileManager.default.fileExists(atPath: source) else {
            throw StoreError.cannotOpen(path: source, reason: "no such file (has the daemon ever run with this configuration?)")
        }
        let target = (destination as NSString).standardizingPath
        var existing = stat()
        if !overwrite, lstat(target, &existing) == 0 { throw BackupError.destinationExists(path: target) }
        let partial = try createPrivateFile(besides: target)
        var placed = false
        defer {
            if !placed { unlink(partial) }
            for companion in ["-journal", "-wal", "-shm"] { unlink(partial + companion) }
        }
        let summary = try copy(from: source, cipher: cipher, into: partial, reportedAs: target, now: now)
        try syncFile(partial)
        if overwrite {
            guard rename(partial, target) == 0 else { throw BackupError.cannotCreate(path: target, reason: String(cString: strerror(errno))) }
            placed = true
        } else {
            // link(2) fails if the destination appeared meanwhile: an existing file is never replaced.
            guard link(partial, target) == 0 else {
                if errno == EEXIST { throw BackupError.destinationExists(path: target) }
                throw BackupError.cannotCreate(path: target, reason: String(cString: strerror(errno)))
            }
        }
        syncDirectory(of: target)
        return summary
    }

    /// When the database at `connection` was copied by `backup`, if it is such a copy.
    static func takenAt(_ connection: SQLiteConnection) throws(StoreError) -> Date? {
        let row = try connection.prepare("SELECT value FROM store_meta WHERE name = ?").bind(markerName)
        guard try row.step(), !row.isNull(0) else { return nil }
        return Date(timeIntervalSince1970: row.double(0))
    }

    private static func copy(
        from source: String, cipher: TokenCipher, into partial: String, reportedAs target: String, now: () -> Date
    ) throws -> BackupSummary {
        let from = try SQLiteConnection(path: source, readOnly: true)
        let version = Int(try from.scalarInt("PRAGMA user_version"))
        guard version == Migrations.all.count else {
            throw StoreError.cannotOpen(
                path: source, reason: "the database is at schema \(version) of \(Migrations.all.count): start the daemon once to upgrade it, then back it up")
        }
        // A wrong key is found before anything is copied.
        try KeyCheck.verify(cipher, from, writing: false)
        try pages(from: from, into: partial)
        let takenAt = now()
        // Opened afresh: the copy's header now says WAL, as the source's does. It is made one
        // self-contained file again, with no -wal or -shm to carry along when restoring it.
        let to = try SQLiteConnection(path: partial, readOnly: false)
        try to.execute("PRAGMA journal_mode = DELETE")
        try to.prepare("INSERT OR REPLACE INTO store_meta (name, value) VALUES (?, ?)")
            .bind(markerName, takenAt.timeIntervalSince1970).run()
        let counts = try verify(to, cipher: cipher, path: target)
        return BackupSummary(path: target, takenAt: takenAt, grants: counts.grants, events: counts.events)
    }

    /// Every page of `from` into the file at `partial`, with SQLite's online backup API. All pages in
    /// one step: one read transaction, so the copy is one moment of the database; in WAL mode the
    /// daemon's writes go on meanwhile.
    private static func pages(from: SQLiteConnection, into partial: String) throws {
        let to = try SQLiteConnection(path: partial, readOnly: false)
        guard let backup = sqlite3_backup_init(to.handle, "main", from.handle, "main") else {
            throw BackupError.copyFailed(reason: String(cString: sqlite3_errmsg(to.handle)))
        }
        var rc = SQLITE_OK
        for _ in 0..<busyRetries {
            rc = sqlite3_backup_step(backup, -1)
            guard rc == SQLITE_BUSY || rc == SQLITE_LOCKED else { break }
            usleep(50_000)
        }
        sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else {
            throw BackupError.copyFailed(reason: "\(String(cString: sqlite3_errstr(rc))) (SQLite code \(rc))")
        }
    }

    /// The copy's own checks: SQLite's integrity check, the key check value, every token opened.
    private static func verify(_ copy: SQLiteConnection, cipher: TokenCipher, path: String) throws -> (grants: Int, events: Int) {
        let integrity = try copy.prepare("PRAGMA integrity_check")
        var findings: [String] = []
        while try integrity.step() { findings.append(integrity.string(0) ?? "") }
        guard findings == ["ok"] else {
            throw BackupError.verificationFailed(path: path, reason: "integrity_check says " + findings.prefix(3).joined(separator: "; "))
        }
        do {
            try KeyCheck.verify(cipher, copy, writing: false)
        } catch {
            throw BackupError.verificationFailed(path: path, reason: "the key does not open its key check value")
        }
        let rows = try copy.prepare("SELECT organisation, kind, subject, refresh_token, access_token FROM grants")
        var grants = 0
        while try rows.step() {
            let key = GrantKey(
                organisation: rows.string(0) ?? "", kind: GrantKind(rawValue: rows.string(1) ?? "") ?? .user, subject: rows.string(2) ?? "")
            do {
                if let sealed = rows.bytes(3) { _ = try cipher.open(sealed, for: key, field: .refreshToken) }
                if let sealed = rows.bytes(4) { _ = try cipher.open(sealed, for: key, field: .accessToken) }
            } catch {
                throw BackupError.verificationFailed(path: path, reason: "the tokens of \(key) do not open with the key")
            }
            grants += 1
        }
        return (grants, Int(try copy.scalarInt("SELECT count(*) FROM events")))
    }

    /// A new, empty file of mode 0600 in the destination's directory, made with O_EXCL.
    private static func createPrivateFile(besides target: String) throws(BackupError) -> String {
        let directory = (target as NSString).deletingLastPathComponent
        let name = ".\((target as NSString).lastPathComponent).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let partial = directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)
        let fd = open(partial, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .cannotCreate(path: target, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else {
            unlink(partial)
            throw .cannotCreate(path: target, reason: String(cString: strerror(errno)))
        }
        return partial
    }

    private static func syncFile(_ path: String) throws(BackupError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .cannotCreate(path: path, reason: String(cString: strerror(errno))) }
    }

    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
