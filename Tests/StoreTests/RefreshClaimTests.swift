import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

@Suite("Refresh claims and outcomes")
struct RefreshClaimTests {
    @Test("one claim at a time; a stale or dead owner's claim is taken over and reported")
    func claims() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let key = GrantKey.library("ACTIVE", of: "acme")
        let now = Date()
        try await store.saveAuthorization(authorization(key, refresh: "r1", access: "a1", now: now), now: now)
        let id = try #require(try store.record(for: key)).id

        let first = try await store.claimRefresh(id: id, owner: "daemon:1", now: now, lease: 60)
        #expect(first?.refreshToken == "r1")
        #expect(first?.abandonedClaim == nil)
        #expect(try store.record(for: key)?.inFlightOwner == "daemon:1")

        // A second process gets nothing while the claim is live…
        #expect(try await store.claimRefresh(id: id, owner: "cli:2", now: now.addingTimeInterval(5), lease: 60) == nil)
        // …but takes it over once the lease has run out, learning the earlier outcome is uncertain.
        let takeover = try await store.claimRefresh(id: id, owner: "cli:2", now: now.addingTimeInterval(61), lease: 60)
        #expect(takeover?.abandonedClaim?.owner == "daemon:1")
        // Or at once, when its owner is known to be gone.
        let restart = try await store.claimRefresh(
            id: id, owner: "daemon:3", now: now.addingTimeInterval(62), lease: 60, ownerIsGone: { $0 == "cli:2" })
        #expect(restart?.abandonedClaim?.owner == "cli:2")
        // Its own claim left standing (the outcome of that attempt could not be written) is just as uncertain.
        let again = try await store.claimRefresh(id: id, owner: "daemon:3", now: now.addingTimeInterval(63), lease: 60)
        #expect(again?.abandonedClaim?.owner == "daemon:3")
    }

    @Test("an outcome is written only by the claim's owner, releases it, and keeps the refresh token when none came")
    func applyOutcome() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let key = GrantKey.user("ALICE", of: "acme")
        let now = Date()
        try await store.saveAuthorization(authorization(key, refresh: "r1", access: "a1", now: now), now: now)
        let id = try #require(try store.record(for: key)).id
        _ = try await store.claimRefresh(id: id, owner: "daemon:1", now: now, lease: 60)

        var update = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: now.addingTimeInterval(900))
        update.succeeded = true
        update.newAccessToken = IssuedToken(token: "a2", issuedAt: now, expiresAt: now.addingTimeInterval(1800))
        await #expect(throws: StoreError.claimLost(grant: key.description)) {
            try await store.apply(update, toGrant: id, claimedBy: "someone-else", now: now)
        }
        let transition = try await store.apply(update, toGrant: id, claimedBy: "daemon:1", now: now)
        #expect(!transition.changed)
        let record = try #require(try store.record(for: key))
        #expect(record.inFlightOwner == nil && record.inFlightSince == nil)
        #expect(try store.tokens(for: key) == GrantTokens(refreshToken: "r1", accessToken: "a2"))
        #expect(try store.events().count == 1, "a routine refresh records no event")
    }

    @Test("a failure is counted and kept, and a status change becomes an event with its class")
    func failureEvent() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let key = GrantKey.library("ACTIVE", of: "acme")
        try await store.saveAuthorization(authorization(key, refresh: "r1", access: "a1"))
        let id = try #require(try store.record(for: key)).id
        for status in [GrantStatus.retrying, .retrying, .needsReauth] {
            var update = GrantUpdate(status: status, message: "refresh failed", nextRefreshAt: nil)
            update.failure = RefreshFailure(
                status == .retrying ? .transient : .grantDead, httpStatus: status == .retrying ? 503 : 400,
                detail: "iManage said no")
            try await store.apply(update, toGrant: id, claimedBy: nil)
        }
        let record = try #require(try store.record(for: key))
        #expect(record.consecutiveFailures == 3)
        #expect(record.lastHTTPStatus == 400)
        #expect(record.lastErrorClass == "grant_dead")
        let events = try store.events(EventFilter(organisation: "acme", kind: .library, subject: "ACTIVE"))
        #expect(events.map(\.status) == [.authorized, .retrying, .needsReauth])
        #expect(events.last?.previousStatus == .retrying)
        #expect(events.last?.httpStatus == 400)
        #expect(try store.events(EventFilter(subject: "OTHER")).isEmpty)
    }

    @Test("writes that arrive together share durable commits, each still reported on its own")
    func groupCommit() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await store.saveAuthorization(authorization(.user("U\(index)", of: "acme"), refresh: "r\(index)", access: "a\(index)"))
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.records().count == 200)
        let stats = store.commitStatistics
        #expect(stats.writes == 200)
        #expect(stats.commits < 200, "200 concurrent writes took \(stats.commits) commits")
        #expect(try store.tokens(for: .user("U123", of: "acme"))?.refreshToken == "r123")
    }

    @Test("revoking removes the tokens and keeps the history")
    func revoke() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        let key = GrantKey.user("ALICE", of: "acme")
        try await store.saveAuthorization(authorization(key, refresh: "r1", access: "a1"))
        let transition = try await store.remove(key, message: "revoked by an administrator")
        #expect(transition?.current == .unauthorized)
        #expect(try store.record(for: key) == nil)
        #expect(try store.tokens(for: key) == nil)
        #expect(try store.events().map(\.status) == [.authorized, .unauthorized])
        #expect(try await store.remove(key, message: "again") == nil)
    }
}
