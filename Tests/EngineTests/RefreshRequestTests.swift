import Foundation
import IManageEmulator
import Testing
import TokendPolicy
import TokendStore
@testable import TokendEngine

@Suite("Refresh on request, revoke, and scheduling a grant stored by another process", .serialized)
struct RefreshRequestTests {
    let key = GrantKey.library("ACTIVE", of: "demo")

    @Test("requestRefresh: at once, or deferred to the minimum interval; the backoff starts over")
    func requestRefresh() async throws {
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 600, minimumInterval: 2, grants: [("demo", "ACTIVE")])
        defer { Task { await fixture.stop() } }
        try #require(try await fixture.wait(upTo: 20) { try fixture.store.record(for: key)?.accessExpiresAt != nil && fixture.store.record(for: key)?.inFlightSince == nil })
        let first = try #require(try fixture.store.record(for: key))

        guard case let .scheduled(_, at, deferred) = try await fixture.engine.requestRefresh(key) else {
            Issue.record("not scheduled")
            return
        }
        #expect(deferred)
        #expect(abs(at.timeIntervalSince(max(first.lastAttemptAt ?? .distantPast, first.lastRefreshAt!).addingTimeInterval(2))) < 0.01)
        #expect(try await fixture.wait(upTo: 15) { (try fixture.store.record(for: key)?.lastRefreshAt ?? .distantPast) > first.lastRefreshAt! })
        let refreshedAt = try #require(try fixture.store.record(for: key)?.lastRefreshAt)
        #expect(refreshedAt >= at.addingTimeInterval(-0.05), "refreshed before the minimum interval")

        // A retrying grant: its failure count starts over when asked to refresh.
        try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
        try await Task.sleep(for: .seconds(2))
        _ = try await fixture.engine.requestRefresh(key)
        #expect(try await fixture.wait(upTo: 15) { (try fixture.store.record(for: key)?.consecutiveFailures ?? 0) >= 2 })
        try await Task.sleep(for: .seconds(2.1))
        _ = try await fixture.engine.requestRefresh(key)
        // 0, or 1 if a retry already in flight has just failed again.
        #expect((try fixture.store.record(for: key)?.consecutiveFailures ?? 9) <= 1)
    }

    @Test("requestRefresh refuses a grant that waits for a person, and knows no unknown grant")
    func refusals() async throws {
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 4, grants: [("demo", "ACTIVE")])
        defer { Task { await fixture.stop() } }
        try fixture.emulator.revokeUser("ALICE")
        #expect(try await fixture.wait(upTo: 15) { try fixture.status(key) == .needsReauth })
        guard case .refused(let status, _) = try await fixture.engine.requestRefresh(key) else {
            Issue.record("a dead grant was scheduled")
            return
        }
        #expect(status == .needsReauth)
        #expect(try await fixture.engine.requestRefresh(.library("NOPE", of: "demo")) == .notFound)
    }

    @Test("revoke removes the grant and its tokens with an event; scheduleStored picks up an imported grant")
    func revokeAndSchedule() async throws {
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 4, grants: [("demo", "ACTIVE")])
        defer { Task { await fixture.stop() } }
        let transition = try await fixture.engine.revoke(key, message: "revoked in a test")
        #expect(transition?.current == .unauthorized)
        #expect(try fixture.store.record(for: key) == nil && fixture.store.tokens(for: key) == nil)
        #expect(try fixture.store.events().last?.message == "revoked in a test")
        #expect(try await fixture.engine.revoke(key, message: "again") == nil)

        let imported = GrantKey.library("RECORDS", of: "demo")
        let token = try fixture.emulator.mintGrants(user: "ALICE", clientID: "tokend-demo", count: 1)[0]
        try await fixture.store.saveAuthorisation(NewAuthorisation(
            key: imported,
            identity: AuthorisedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice Admin", customerID: "1"),
            refreshToken: IssuedToken(token: token, issuedAt: Date(), expiresAt: Date().addingTimeInterval(86_400)),
            accessToken: nil, nextRefreshAt: Date().addingTimeInterval(0.3), message: "imported"))
        let at = try #require(try fixture.engine.scheduleStored(imported))
        #expect(at.timeIntervalSinceNow < 1)
        #expect(try await fixture.wait(upTo: 15) { try fixture.store.tokens(for: imported)?.accessToken != nil })
        #expect(try fixture.engine.scheduleStored(.library("NOPE", of: "demo")) == nil)
    }
}
