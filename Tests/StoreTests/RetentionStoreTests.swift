import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

/// `pruneEvents`: old events go in batches, never the latest event of a grant.
@Suite struct RetentionStoreTests {
    static let now = Date(timeIntervalSince1970: 1_900_000_000)
    static func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

    let active = GrantKey.library("ACTIVE", of: "acme")
    let archive = GrantKey.library("ARCHIVE", of: "acme")
    let revoked = GrantKey.user("GONE", of: "acme")

    /// ACTIVE: 500, 450 and 10 days old; ARCHIVE: 500 and 499 (its latest is old); GONE: 600 only.
    func seeded(_ db: TemporaryDatabase) throws -> SQLiteGrantStore {
        let store = try db.open()
        let raw = try SQLiteConnection(path: db.path, readOnly: false)
        let events: [(GrantKey, Double, String)] = [
            (active, 500, "a500"), (active, 450, "a450"), (active, 10, "a10"),
            (archive, 500, "b500"), (archive, 499, "b499"), (revoked, 600, "c600"),
        ]
        for (key, days, message) in events {
            try SQLiteGrantStore.insertEvent(raw, key: key, at: Self.daysAgo(days), status: .authorized, previous: nil, failure: nil, message: message)
        }
        return store
    }

    @Test("older than the cutoff goes, the latest of each grant stays however old")
    func prunesAllButLatest() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try seeded(db)
        let deleted = try await store.pruneEvents(olderThan: Self.daysAgo(400), limit: 100)
        #expect(deleted == 3)
        #expect(try store.events().map(\.message).sorted() == ["a10", "b499", "c600"])
        #expect(try await store.pruneEvents(olderThan: Self.daysAgo(400), limit: 100) == 0)
    }

    @Test("a batch deletes at most its limit, oldest first")
    func batchesAreBounded() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try seeded(db)
        #expect(try await store.pruneEvents(olderThan: Self.daysAgo(400), limit: 2) == 2)
        #expect(try store.events().map(\.message).sorted() == ["a10", "a450", "b499", "c600"])
        #expect(try await store.pruneEvents(olderThan: Self.daysAgo(400), limit: 2) == 1)
        #expect(try await store.pruneEvents(olderThan: Self.daysAgo(400), limit: 2) == 0)
    }

    @Test("nothing younger than the cutoff is touched")
    func youngEventsStay() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try seeded(db)
        #expect(try await store.pruneEvents(olderThan: Self.daysAgo(1000), limit: 100) == 0)
        #expect(try store.events().count == 6)
    }
}
