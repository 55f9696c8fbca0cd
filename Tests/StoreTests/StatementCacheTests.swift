import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

/// Statements prepared once and kept (`SQLiteConnection.cached`): a kept statement left after its
/// first row must not hold a read snapshot, or the daemon would serve tokens older than it wrote
/// and its writer would fail once another process (`import`) has written.
@Suite struct StatementCacheTests {
    let keyA = GrantKey.library("ALPHA", of: "acme")
    let keyB = GrantKey.library("BETA", of: "acme")

    func refreshed(access: String, now: Date) -> GrantUpdate {
        var update = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: now.addingTimeInterval(900))
        update.succeeded = true
        update.newAccessToken = IssuedToken(token: access, issuedAt: now, expiresAt: now.addingTimeInterval(1800))
        return update
    }

    @Test("a read after another read's kept statement sees what was written since")
    func readsSeeNewWrites() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let now = Date()
        try await store.saveAuthorization(authorization(keyA, refresh: "refresh-A", access: "access-A1", now: now), now: now)
        try await store.saveAuthorization(authorization(keyB, refresh: "refresh-B", access: "access-B1", now: now), now: now)
        let b = try #require(try store.record(for: keyB))
        // Its statement stopped after the one row it found.
        #expect(try store.record(for: keyA)?.status == .authorized)
        try await store.apply(refreshed(access: "access-B2", now: now), toGrant: b.id, claimedBy: nil, now: now)
        #expect(try store.tokens(for: keyB)?.accessToken == "access-B2")
        #expect(try store.record(id: b.id)?.accessIssuedAt != nil)
    }

    @Test("the writer goes on after another process wrote between two of its commits")
    func writerSeesOtherProcessesWrites() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let daemon = try db.open()
        let now = Date()
        try await daemon.saveAuthorization(authorization(keyA, refresh: "refresh-A", access: "access-A1", now: now), now: now)
        let a = try #require(try daemon.record(for: keyA))
        // The claim's statement stops after the grant's row, inside the writer's batch.
        let claim = try await daemon.claimRefresh(id: a.id, owner: "daemon:1", now: now, lease: 60)
        #expect(claim?.refreshToken == "refresh-A")
        // Another process (an `import`) writes in between.
        let cli = try db.open()
        try await cli.saveAuthorization(authorization(keyB, refresh: "refresh-B", access: "access-B1", now: now), now: now)
        // The daemon's next write must start from the newest data, not fail on an old snapshot.
        try await daemon.apply(refreshed(access: "access-A2", now: now), toGrant: a.id, claimedBy: "daemon:1", now: now)
        #expect(try daemon.tokens(for: keyA)?.accessToken == "access-A2")
        #expect(try daemon.tokens(for: keyB)?.accessToken == "access-B1")
    }

    @Test("refreshing many grants keeps a handful of statements, not one per refresh")
    func statementsAreKept() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let now = Date()
        try await store.saveAuthorization(authorization(keyA, refresh: "refresh-A", access: "access-A1", now: now), now: now)
        let a = try #require(try store.record(for: keyA))
        for round in 0..<50 {
            _ = try await store.claimRefresh(id: a.id, owner: "daemon:1", now: now, lease: 60)
            try await store.apply(refreshed(access: "access-\(round)", now: now), toGrant: a.id, claimedBy: "daemon:1", now: now)
            _ = try store.record(id: a.id)
        }
        #expect(try store.tokens(for: keyA)?.accessToken == "access-49")
        #expect((1...12).contains(store.cachedStatementCounts.writer), "\(store.cachedStatementCounts)")
        #expect((1...4).contains(store.cachedStatementCounts.reader), "\(store.cachedStatementCounts)")
    }
}
