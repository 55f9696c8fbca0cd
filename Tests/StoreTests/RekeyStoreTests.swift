import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

/// `StoreRekey`: every token and the key check value under the new key, in one transaction.
@Suite struct RekeyStoreTests {
    let keys = [GrantKey.library("ACTIVE", of: "acme"), GrantKey.library("ARCHIVE", of: "acme"), GrantKey.user("BOB", of: "acme")]
    let newKey: [UInt8] = (0..<32).map { UInt8(($0 * 53 + 7) % 256) }

    func filled(_ db: TemporaryDatabase) async throws {
        let store = try db.open()
        for (index, key) in keys.enumerated() {
            try await store.saveAuthorization(authorization(key, refresh: "refresh-\(index)", access: "access-\(index)"))
        }
    }

    @Test("after rekey the old key is refused and the new one opens every token")
    func rekeyResealsEverything() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        try await filled(db)
        let summary = try StoreRekey.rekey(database: db.path, oldKey: db.key, newKey: newKey)
        #expect(summary == RekeySummary(grants: 3, tokens: 6))
        #expect(throws: StoreError.wrongKey(path: db.path)) { _ = try db.open() }
        #expect(throws: StoreError.wrongKey(path: db.path)) { _ = try SQLiteGrantStore(path: db.path, key: db.key, mode: .readOnly) }
        let store = try SQLiteGrantStore(path: db.path, key: newKey)
        for (index, key) in keys.enumerated() {
            #expect(try store.tokens(for: key) == GrantTokens(refreshToken: "refresh-\(index)", accessToken: "access-\(index)"))
        }
    }

    @Test("a failure in the middle leaves every token under the old key")
    func failureInTheMiddleChangesNothing() async throws {
        struct Crash: Error {}
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        try await filled(db)
        #expect(throws: Crash.self) {
            try StoreRekey.rekey(database: db.path, oldKey: db.key, newKey: newKey) { done in
                if done == 2 { throw Crash() }
            }
        }
        #expect(throws: StoreError.wrongKey(path: db.path)) { _ = try SQLiteGrantStore(path: db.path, key: newKey) }
        let store = try db.open()
        for (index, key) in keys.enumerated() {
            #expect(try store.tokens(for: key) == GrantTokens(refreshToken: "refresh-\(index)", accessToken: "access-\(index)"))
        }
    }

    @Test("a wrong current key is refused, and so is the same key again")
    func refusals() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        try await filled(db)
        #expect(throws: StoreError.wrongKey(path: db.path)) {
            try StoreRekey.rekey(database: db.path, oldKey: [UInt8](repeating: 1, count: 32), newKey: newKey)
        }
        #expect(throws: StoreError.self) { try StoreRekey.rekey(database: db.path, oldKey: db.key, newKey: db.key) }
        #expect(throws: StoreError.wrongKeySize(bytes: 31)) {
            try StoreRekey.rekey(database: db.path, oldKey: db.key, newKey: Array(newKey.prefix(31)))
        }
        #expect(try db.open().tokens(for: keys[0])?.refreshToken == "refresh-0")
    }
}
