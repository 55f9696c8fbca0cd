import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

/// `StoreBackup`: a consistent, private, verified copy, and the restored copy's marker.
@Suite struct BackupStoreTests {
    let keyA = GrantKey.library("ACTIVE", of: "acme")
    let keyB = GrantKey.user("BOB", of: "acme")

    func filled(_ db: TemporaryDatabase, now: Date = Date()) async throws -> SQLiteGrantStore {
        let store = try db.open()
        try await store.saveAuthorization(authorization(keyA, refresh: "refresh-A", access: "access-A", now: now), now: now)
        try await store.saveAuthorization(authorization(keyB, refresh: "refresh-B", access: "access-B", now: now), now: now)
        return store
    }

    @Test("the copy is mode 0600, one self-contained file, and holds every grant, event and token")
    func copyIsPrivateCompleteAndSingleFile() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try await filled(db)
        let target = db.directory.appendingPathComponent("copy.sqlite").path
        let summary = try StoreBackup.backup(database: db.path, key: db.key, to: target, overwrite: false)
        #expect(summary.grants == 2 && summary.events == 2)
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int == 0o600)
        // Rollback journal (byte 18 of the header is 1): no -wal or -shm to carry along.
        let header = [UInt8](try Data(contentsOf: URL(fileURLWithPath: target)).prefix(20))
        #expect(header[18] == 1 && header[19] == 1, "header bytes 18-19: \(header[18]), \(header[19])")
        #expect(!FileManager.default.fileExists(atPath: target + "-wal") && !FileManager.default.fileExists(atPath: target + "-journal"))
        // Nothing is left beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: db.directory.path).filter { $0.contains("partial") }
        #expect(left.isEmpty, "\(left)")
        let copy = try SQLiteGrantStore(path: target, key: db.key)
        #expect(try copy.tokens(for: keyA) == GrantTokens(refreshToken: "refresh-A", accessToken: "access-A"))
        #expect(try copy.tokens(for: keyB) == GrantTokens(refreshToken: "refresh-B", accessToken: "access-B"))
        #expect(try copy.events().count == 2)
        withExtendedLifetime(store) {}
    }

    @Test("an existing file is refused without overwrite, and replaced with it")
    func existingFileNeedsOverwrite() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try await filled(db)
        let target = db.directory.appendingPathComponent("copy.sqlite").path
        #expect(FileManager.default.createFile(atPath: target, contents: Data("precious".utf8)))
        #expect(throws: BackupError.destinationExists(path: target)) {
            try StoreBackup.backup(database: db.path, key: db.key, to: target, overwrite: false)
        }
        #expect(FileManager.default.contents(atPath: target) == Data("precious".utf8))
        _ = try StoreBackup.backup(database: db.path, key: db.key, to: target, overwrite: true)
        #expect(try SQLiteGrantStore(path: target, key: db.key).records().count == 2)
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int == 0o600)
        withExtendedLifetime(store) {}
    }

    @Test("a wrong key is refused before anything is written")
    func wrongKeyWritesNothing() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try await filled(db)
        let target = db.directory.appendingPathComponent("copy.sqlite").path
        #expect(throws: StoreError.wrongKey(path: db.path)) {
            try StoreBackup.backup(database: db.path, key: [UInt8](repeating: 7, count: 32), to: target, overwrite: false)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: db.directory.path)
        #expect(!files.contains { $0.hasPrefix("copy") || $0.contains("partial") }, "\(files)")
        withExtendedLifetime(store) {}
    }

    @Test("a copy taken while another connection writes is consistent")
    func copyWhileWriting() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try await filled(db)
        let writer = Task {
            for index in 0..<200 {
                try await store.saveAuthorization(authorization(.user("U\(index)", of: "acme"), refresh: "r\(index)", access: "a\(index)"))
            }
        }
        let target = db.directory.appendingPathComponent("copy.sqlite").path
        let summary = try StoreBackup.backup(database: db.path, key: db.key, to: target, overwrite: false)
        try await writer.value
        // Every grant in the copy has its event: one moment of the database, not a mix.
        #expect(summary.grants == summary.events)
        #expect(summary.grants >= 2 && summary.grants <= 202)
    }

    @Test("the live database is not a restored copy; the copy knows when it was taken")
    func restoredMarker() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try await filled(db)
        #expect(store.restoredBackupTakenAt == nil)
        #expect(try store.grantsUnconfirmedSinceRestore() == nil)
        let target = db.directory.appendingPathComponent("copy.sqlite").path
        let summary = try StoreBackup.backup(database: db.path, key: db.key, to: target, overwrite: false)
        let restored = try SQLiteGrantStore(path: target, key: db.key)
        #expect(restored.restoredBackupTakenAt == Date(timeIntervalSince1970: summary.takenAt.timeIntervalSince1970))
        #expect(try restored.grantsUnconfirmedSinceRestore()?.count == 2)
        // A grant waiting for a person is never tried: not counted (the start-up notice would never end).
        let bob = try #require(try restored.record(for: keyB))
        _ = try await restored.setStatus(.needsReauth, ofGrants: [bob.id], message: "refused")
        #expect(try restored.grantsUnconfirmedSinceRestore()?.count == 1)
        // The live database still is not marked.
        #expect(try db.open().restoredBackupTakenAt == nil)
    }

    @Test("on a restored copy, a grant's first refresh is flagged; not after an attempt, nor after a new authorisation")
    func restoredClaimFlag() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let before = Date().addingTimeInterval(-60)
        _ = try await filled(db, now: before)
        let target = db.directory.appendingPathComponent("copy.sqlite").path
        let summary = try StoreBackup.backup(database: db.path, key: db.key, to: target, overwrite: false)
        let restored = try SQLiteGrantStore(path: target, key: db.key)
        let recordA = try #require(try restored.record(for: keyA))
        let now = summary.takenAt.addingTimeInterval(5)

        let first = try #require(try await restored.claimRefresh(id: recordA.id, owner: "daemon:1:1", now: now, lease: 60))
        #expect(first.restoredBackupTakenAt == restored.restoredBackupTakenAt)
        var update = GrantUpdate(status: .retrying, message: "refresh failed, retrying", nextRefreshAt: now.addingTimeInterval(30))
        update.failure = RefreshFailure(.transient, httpStatus: 503, detail: "unavailable")
        try await restored.apply(update, toGrant: recordA.id, claimedBy: "daemon:1:1", now: now)
        // Tried since the backup: a later refusal is the grant's own.
        let second = try #require(try await restored.claimRefresh(id: recordA.id, owner: "daemon:1:1", now: now.addingTimeInterval(30), lease: 60))
        #expect(second.restoredBackupTakenAt == nil)
        #expect(try restored.grantsUnconfirmedSinceRestore()?.count == 1)

        // Authorised again after the restore: its token is new, nothing to suspect.
        try await restored.saveAuthorization(authorization(keyB, refresh: "refresh-B2", access: "access-B2", now: now), now: now)
        let recordB = try #require(try restored.record(for: keyB))
        let fresh = try #require(try await restored.claimRefresh(id: recordB.id, owner: "daemon:1:1", now: now, lease: 60))
        #expect(fresh.restoredBackupTakenAt == nil)
        #expect(try restored.grantsUnconfirmedSinceRestore()?.count == 0)
    }
}
