import CSQLite
import Foundation
import Testing
import TokendPolicy
import TokendTestSupport
@testable import TokendStore

@Suite("Encrypted grant store")
struct GrantStoreTests {
    @Test("an empty file is migrated to the current schema, in WAL mode")
    func migratesFromEmpty() throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        _ = try db.open()
        let check = try SQLiteConnection(path: db.path, readOnly: true)
        #expect(try check.scalarInt("PRAGMA user_version") == Int64(Migrations.all.count))
        let mode = try check.prepare("PRAGMA journal_mode")
        #expect(try mode.step())
        #expect(mode.string(0) == "wal")
        #expect(try check.scalarInt("SELECT count(*) FROM sqlite_master WHERE name IN ('grants', 'events')") == 2)
        // Opening again migrates nothing and loses nothing.
        _ = try db.open()
        #expect(try check.scalarInt("PRAGMA user_version") == Int64(Migrations.all.count))
    }

    /// Found by the crash run: parallel `import`s of a first grant each ran the first migration and
    /// all but one failed with "table grants already exists".
    @Test("many processes opening a new database at once all succeed, and the schema is made once")
    func concurrentFirstOpen() async throws {
        for _ in 0..<10 {
            let db = TemporaryDatabase()
            defer { db.cleanUp() }
            let failures = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do { _ = try db.open(); return nil } catch { return "\(error)" }
                    }
                }
                var failures: [String] = []
                for await failure in group { if let failure { failures.append(failure) } }
                return failures
            }
            #expect(failures.isEmpty, "\(failures)")
            let check = try SQLiteConnection(path: db.path, readOnly: true)
            #expect(try check.scalarInt("PRAGMA user_version") == Int64(Migrations.all.count))
        }
    }

    /// Found by the fault matrix: `status` run while the database was 0400 left a -shm of mode 0400,
    /// and the daemon could not write after the database's mode was mended.
    @Test("a -wal or -shm file left with another mode is set to 0600 again when the store opens")
    func companionFileModes() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        do { _ = try db.open() }
        for suffix in ["-wal", "-shm"] {
            if !FileManager.default.fileExists(atPath: db.path + suffix) {
                _ = FileManager.default.createFile(atPath: db.path + suffix, contents: nil)
            }
            chmod(db.path + suffix, suffix == "-wal" ? 0o644 : 0o400)
        }
        let store = try db.open()
        _ = try await store.saveAuthorization(authorization(.library("ACTIVE", of: "acme"), refresh: "r", access: "a"))
        for suffix in ["-wal", "-shm"] {
            let mode = try FileManager.default.attributesOfItem(atPath: db.path + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "mode of tokend.sqlite\(suffix)")
        }
    }

    @Test("a database of a newer schema is refused with what to do")
    func refusesNewerSchema() throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        _ = try db.open()
        let raw = try SQLiteConnection(path: db.path, readOnly: false)
        try raw.execute("PRAGMA user_version = 99")
        #expect(throws: StoreError.newerSchema(path: db.path, found: 99, known: Migrations.all.count)) {
            _ = try db.open()
        }
    }

    @Test("the database file is created with mode 0600, and a wider mode is narrowed")
    func fileMode() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        #expect(!store.tightenedPermissions)
        _ = try await store.saveAuthorization(authorization(.library("ACTIVE", of: "acme"), refresh: "r", access: "a"))
        for suffix in ["", "-wal"] {
            let mode = try FileManager.default.attributesOfItem(atPath: db.path + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "mode of tokend.sqlite\(suffix)")
        }
        chmod(db.path, 0o644)
        let reopened = try db.open()
        #expect(reopened.tightenedPermissions)
        #expect(try FileManager.default.attributesOfItem(atPath: db.path)[.posixPermissions] as? Int == 0o600)
    }

    @Test("created by root in the service's state directory, the database and its WAL belong to the directory's owner",
          .enabled(if: geteuid() == 0, "only root can create a file for another user"))
    func rootCreatesForDirectoryOwner() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        try FileManager.default.createDirectory(at: db.directory, withIntermediateDirectories: true)
        let service: (uid: uid_t, gid: gid_t) = (65534, 65534)  // nobody, standing in for imanage-tokend
        #expect(chown(db.directory.path, service.uid, service.gid) == 0)
        let store = try db.open()
        _ = try await store.saveAuthorization(authorization(.library("ACTIVE", of: "acme"), refresh: "r", access: "a"))
        for suffix in ["", "-wal"] {
            var info = stat()
            #expect(stat(db.path + suffix, &info) == 0)
            #expect(info.st_uid == service.uid && info.st_gid == service.gid, "owner of tokend.sqlite\(suffix): \(info.st_uid):\(info.st_gid)")
            #expect(info.st_mode & 0o777 == 0o600)
        }
    }

    @Test("a grant round-trips: record, identity, times and decrypted tokens")
    func roundTrip() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let key = GrantKey.library("ACTIVE", of: "acme")
        let transition = try await store.saveAuthorization(authorization(key, refresh: "refresh-1", access: "access-1", now: now), now: now)
        #expect(transition.previous == nil && transition.current == .authorized)

        // A second process (the status CLI) reads what the daemon wrote.
        let reader = try db.open(.readOnly)
        let record = try #require(try reader.record(for: key))
        #expect(record.status == .authorized)
        #expect(record.authorizedBy == .alice)
        #expect(record.accessExpiresAt == now.addingTimeInterval(1800))
        #expect(record.nextRefreshAt == now.addingTimeInterval(900))
        #expect(record.refreshTokenExpiresAt == now.addingTimeInterval(365 * 86_400))
        #expect(record.refreshTokenFingerprint?.count == 8)
        #expect(try reader.tokens(for: key) == GrantTokens(refreshToken: "refresh-1", accessToken: "access-1"))
        #expect(try reader.events().map(\.message) == ["authorised by Alice Admin"])
    }

    @Test("no token is in the database file's bytes")
    func noPlaintextOnDisk() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let refresh = "RT-plaintext-\(UUID().uuidString)"
        let access = "AT-plaintext-\(UUID().uuidString)"
        let key = GrantKey.user("ALICE", of: "acme")
        try await store.saveAuthorization(authorization(key, refresh: refresh, access: access))
        let rotated = "RT-rotated-\(UUID().uuidString)"
        var update = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: Date())
        update.newRefreshToken = IssuedToken(token: rotated, issuedAt: Date(), expiresAt: Date().addingTimeInterval(60))
        try await store.apply(update, toGrant: try #require(try store.record(for: key)).id, claimedBy: nil)

        let bytes = try db.rawBytes()
        #expect(!bytes.isEmpty)
        for secret in [refresh, access, rotated] {
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "a token is readable in the file")
        }
        #expect(try store.tokens(for: key)?.refreshToken == rotated)
    }

    @Test("a ciphertext moved to another grant's row does not open")
    func swappedCiphertextFails() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let active = GrantKey.library("ACTIVE", of: "acme")
        let archive = GrantKey.library("ARCHIVE", of: "acme")
        try await store.saveAuthorization(authorization(active, refresh: "refresh-active", access: "access-active"))
        try await store.saveAuthorization(authorization(archive, refresh: "refresh-archive", access: "access-archive"))

        let raw = try SQLiteConnection(path: db.path, readOnly: false)
        try raw.execute("""
            UPDATE grants SET refresh_token = (SELECT refresh_token FROM grants WHERE subject = 'ACTIVE')
            WHERE subject = 'ARCHIVE'
            """)
        #expect(throws: StoreError.cannotDecrypt(grant: archive.description)) { try store.tokens(for: archive) }
        #expect(try store.tokens(for: active)?.refreshToken == "refresh-active")
    }

    @Test("the wrong key is refused when the database is opened, for reading or writing, and writes nothing")
    func wrongKey() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let key = GrantKey.user("ALICE", of: "acme")
        try await db.open().saveAuthorization(authorization(key, refresh: "r1", access: "a1"))
        let wrong = [UInt8](repeating: 7, count: 32)
        #expect(throws: StoreError.wrongKey(path: db.path)) { try SQLiteGrantStore(path: db.path, key: wrong, mode: .readOnly) }
        let before = try db.rawBytes()
        #expect(throws: StoreError.wrongKey(path: db.path)) { try SQLiteGrantStore(path: db.path, key: wrong) }
        #expect(try db.rawBytes() == before)
        #expect(throws: StoreError.wrongKeySize(bytes: 16)) { try SQLiteGrantStore(path: db.path, key: [UInt8](repeating: 1, count: 16)) }
        // Opened without a key: records can be read, tokens cannot.
        let keyless = try SQLiteGrantStore(path: db.path, key: nil, mode: .readOnly)
        #expect(try keyless.record(for: key)?.status == .authorized)
        #expect(throws: StoreError.noKey(path: db.path)) { try keyless.tokens(for: key) }
        // The right key still opens it.
        #expect(try db.open().tokens(for: key)?.refreshToken == "r1")
    }

    @Test("a database written before the key check gets one from the right key, and refuses a wrong one")
    func keyCheckOfAnOlderDatabase() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let key = GrantKey.user("ALICE", of: "acme")
        try await db.open().saveAuthorization(authorization(key, refresh: "r1", access: "a1"))
        try db.removeKeyCheck()
        #expect(throws: StoreError.wrongKey(path: db.path)) { try SQLiteGrantStore(path: db.path, key: [UInt8](repeating: 9, count: 32)) }
        #expect(try db.open().tokens(for: key)?.accessToken == "a1")
        #expect(throws: StoreError.wrongKey(path: db.path)) { try SQLiteGrantStore(path: db.path, key: [UInt8](repeating: 9, count: 32)) }
    }

    @Test("signing in again replaces the grant, never adds a second one")
    func reauthorizationReplaces() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let key = GrantKey.user("ALICE", of: "acme")
        try await store.saveAuthorization(authorization(key, refresh: "r1", access: "a1"))
        let first = try #require(try store.record(for: key))
        _ = try await store.setStatus(.needsReauth, ofGrants: [first.id], message: "refresh token refused")
        try await store.saveAuthorization(authorization(key, refresh: "r2", access: "a2"))
        #expect(try store.records().count == 1)
        #expect(try store.record(for: key)?.status == .authorized)
        #expect(try store.tokens(for: key)?.refreshToken == "r2")
        #expect(try store.events().map(\.status) == [.authorized, .needsReauth, .authorized])
    }
}
