import Foundation
import Testing
import TokendPolicy
import TokendTestSupport
@testable import TokendStore

/// The promises of `GrantStore` that every implementation keeps, run against each (SQLite always,
/// PostgreSQL when a server is here). Time passes for real, in leases of a fraction of a second:
/// the PostgreSQL store's leases run on the database's clock, which no test can set.
@Suite("Store contract: grants, tokens, events")
struct StoreContractTests {
    @Test("PostgreSQL is here, so the contract suite ran against it too",
          .enabled(if: PostgreSQLTestServer.isInstalled,
                   "SKIPPED the PostgreSQL store contract suite: no PostgreSQL server here (apt-get install postgresql, or set TOKEND_POSTGRES_BIN); only SQLite was tested"))
    func postgresqlCovered() {
        #expect(StoreFactory.available.contains(.postgresql))
    }

    @Test("a grant round-trips: record, identity, exact times and decrypted tokens, seen by a second handle",
          arguments: StoreFactory.available)
    func roundTrip(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let now = Date(timeIntervalSince1970: 1_800_000_000.123456789)
            let key = GrantKey.library("ACTIVE", of: "acme")
            let transition = try await store.saveAuthorization(authorization(key, refresh: "refresh-1", access: "access-1", now: now), now: now)
            #expect(transition == StatusTransition(key: key, previous: nil, current: .authorized))
            let other = try await subject.another()
            let record = try #require(try await other.record(for: key))
            #expect(record.status == .authorized && record.authorizedBy == .alice)
            #expect(record.accessExpiresAt == now.addingTimeInterval(1800))
            #expect(record.nextRefreshAt == now.addingTimeInterval(900))
            #expect(record.refreshTokenExpiresAt == now.addingTimeInterval(365 * 86_400))
            #expect(record.createdAt == now && record.updatedAt == now)
            #expect(record.refreshTokenFingerprint == TokenCipher.fingerprint("refresh-1"))
            #expect(record.hasRefreshToken && record.inFlightOwner == nil && record.consecutiveFailures == 0)
            #expect(try await other.record(id: record.id) == record)
            #expect(try await other.tokens(for: key) == GrantTokens(refreshToken: "refresh-1", accessToken: "access-1"))
            #expect(try await other.tokens(for: .library("OTHER", of: "acme")) == nil)
            #expect(try await other.record(for: .library("OTHER", of: "acme")) == nil)
        }
    }

    @Test("signing in again replaces the grant (same id), never adds a second one", arguments: StoreFactory.available)
    func saveReplaces(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let key = GrantKey.user("ALICE", of: "acme")
            _ = try await store.saveAuthorization(authorization(key, refresh: "r1", access: "a1"), now: Date())
            let first = try #require(try await store.record(for: key))
            let changed = try await store.setStatus(.needsReauth, ofGrants: [first.id], message: "refused", failure: nil, nextRefreshAt: nil, now: Date())
            #expect(changed == [StatusTransition(key: key, previous: .authorized, current: .needsReauth)])
            let again = try await store.saveAuthorization(authorization(key, refresh: "r2", access: "a2"), now: Date())
            #expect(again.previous == .needsReauth && again.current == .authorized)
            #expect(try await store.records(organisation: nil, kind: nil).count == 1)
            let record = try #require(try await store.record(for: key))
            #expect(record.id == first.id && record.status == .authorized && record.consecutiveFailures == 0)
            #expect(try await store.tokens(for: key)?.refreshToken == "r2")
            #expect(try await store.events(EventFilter()).map(\.status) == [.authorized, .needsReauth, .authorized])
        }
    }

    @Test("records are ordered by organisation, kind and subject, and filtered; the schedule streams every grant",
          arguments: StoreFactory.available)
    func recordsAndSchedule(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let keys: [GrantKey] = [.user("bob", of: "beta"), .library("ACTIVE", of: "acme"), .user("Zed", of: "acme"),
                                    .user("al", of: "acme"), .library("B", of: "beta")]
            for key in keys { _ = try await store.saveAuthorization(authorization(key, refresh: "r", access: "a"), now: Date()) }
            let all = try await store.records(organisation: nil, kind: nil).map(\.key.description)
            #expect(all == ["acme/library/ACTIVE", "acme/user/Zed", "acme/user/al", "beta/library/B", "beta/user/bob"])
            #expect(try await store.records(organisation: "acme", kind: .user).map(\.key.subject) == ["Zed", "al"])
            #expect(try await store.records(organisation: "beta", kind: nil).count == 2)
            let id = try #require(try await store.record(for: keys[1])).id
            _ = try await store.claimRefresh(id: id, owner: "daemon:1", now: Date(), lease: 60, ownerIsGone: { _ in false })
            var entries: [ScheduleEntry] = []
            try await store.forEachScheduleEntry { entries.append($0) }
            #expect(entries.count == 5)
            #expect(entries.filter(\.refreshWasInFlight).map(\.id) == [id])
            #expect(entries.allSatisfy { $0.status == .authorized && $0.nextRefreshAt != nil && $0.accessExpiresAt != nil })
        }
    }

    @Test("events come oldest first; a limit keeps the newest; filters by grant and time", arguments: StoreFactory.available)
    func eventsOrderAndLimit(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let key = GrantKey.library("ACTIVE", of: "acme")
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            _ = try await store.saveAuthorization(authorization(key, refresh: "r", access: "a", now: start), now: start)
            _ = try await store.saveAuthorization(authorization(.library("OTHER", of: "acme"), refresh: "r", access: "a", now: start), now: start)
            let id = try #require(try await store.record(for: key)).id
            let statuses: [GrantStatus] = [.retrying, .expired, .retrying, .needsReauth]
            for (index, status) in statuses.enumerated() {
                var update = GrantUpdate(status: status, message: "step \(index)", nextRefreshAt: nil)
                update.failure = RefreshFailure(.transient, httpStatus: 503, detail: "busy")
                _ = try await store.apply(update, toGrant: id, claimedBy: nil, now: start.addingTimeInterval(Double(index + 1) * 10))
            }
            let mine = EventFilter(organisation: "acme", kind: .library, subject: "ACTIVE")
            let events = try await store.events(mine)
            #expect(events.map(\.status) == [.authorized, .retrying, .expired, .retrying, .needsReauth])
            #expect(events.last?.previousStatus == .retrying && events.last?.httpStatus == 503 && events.last?.errorClass == "transient")
            #expect(events.map(\.id) == events.map(\.id).sorted())
            var limited = mine
            limited.limit = 2
            #expect(try await store.events(limited).map(\.message) == ["step 2", "step 3"])
            var since = mine
            since.since = start.addingTimeInterval(30)
            #expect(try await store.events(since).map(\.message) == ["step 2", "step 3"])
            #expect(try await store.events(EventFilter()).count == 6)
            #expect(try await store.events(EventFilter(subject: "NOBODY")).isEmpty)
            let record = try #require(try await store.record(for: key))
            #expect(record.consecutiveFailures == 4 && record.lastHTTPStatus == 503 && record.lastErrorClass == "transient")
        }
    }

    @Test("revoking removes the grant and its tokens and keeps its history", arguments: StoreFactory.available)
    func remove(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let key = GrantKey.user("ALICE", of: "acme")
            _ = try await store.saveAuthorization(authorization(key, refresh: "r1", access: "a1"), now: Date())
            let transition = try await store.remove(key, message: "revoked by an administrator", now: Date())
            #expect(transition == StatusTransition(key: key, previous: .authorized, current: .unauthorized))
            #expect(try await store.record(for: key) == nil)
            #expect(try await store.tokens(for: key) == nil)
            #expect(try await store.events(EventFilter()).map(\.status) == [.authorized, .unauthorized])
            #expect(try await store.remove(key, message: "again", now: Date()) == nil)
        }
    }

    @Test("a refresh asked for makes the grant due then and starts its backoff over; unknown grants say so",
          arguments: StoreFactory.available)
    func requests(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let key = GrantKey.library("ACTIVE", of: "acme")
            _ = try await store.saveAuthorization(authorization(key, refresh: "r", access: "a"), now: Date())
            let id = try #require(try await store.record(for: key)).id
            var failed = GrantUpdate(status: .retrying, message: "busy", nextRefreshAt: Date().addingTimeInterval(600))
            failed.failure = RefreshFailure(.transient, httpStatus: 503, detail: "busy")
            _ = try await store.apply(failed, toGrant: id, claimedBy: nil, now: Date())
            let at = Date(timeIntervalSince1970: 1_900_000_000.5)
            #expect(try await store.requestRefresh(ofGrant: id, at: at, now: Date()))
            let record = try #require(try await store.record(for: key))
            #expect(record.nextRefreshAt == at && record.consecutiveFailures == 0 && record.lastError != nil)
            #expect(try await !store.requestRefresh(ofGrant: id + 1000, at: at, now: Date()))
        }
    }

    @Test("pruning deletes old events oldest first, at most the limit, never a grant's latest", arguments: StoreFactory.available)
    func prune(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let old = Date(timeIntervalSince1970: 1_700_000_000)
            let key = GrantKey.library("ACTIVE", of: "acme")
            _ = try await store.saveAuthorization(authorization(key, refresh: "r", access: "a", now: old), now: old)
            let id = try #require(try await store.record(for: key)).id
            for (index, status) in [GrantStatus.retrying, .authorized, .retrying].enumerated() {
                _ = try await store.apply(GrantUpdate(status: status, message: "old \(index)", nextRefreshAt: nil), toGrant: id,
                                      claimedBy: nil, now: old.addingTimeInterval(Double(index + 1)))
            }
            let quiet = GrantKey.library("QUIET", of: "acme")
            _ = try await store.saveAuthorization(authorization(quiet, refresh: "r", access: "a", now: old), now: old)
            let cutoff = old.addingTimeInterval(86_400)
            #expect(try await store.pruneEvents(olderThan: cutoff, limit: 2) == 2)
            #expect(try await store.pruneEvents(olderThan: cutoff, limit: 2) == 1)
            #expect(try await store.pruneEvents(olderThan: cutoff, limit: 2) == 0)
            let left = try await store.events(EventFilter())
            #expect(left.map(\.message) == ["authorised by Alice Admin", "old 2"])
            #expect(Set(left.map(\.key)) == [key, quiet])
        }
    }

    @Test("tokens are sealed: no token in the stored bytes, a wrong key is refused at opening",
          arguments: StoreFactory.available)
    func tokensSealed(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let refresh = "RT-plaintext-\(UUID().uuidString)"
            let access = "AT-plaintext-\(UUID().uuidString)"
            let key = GrantKey.user("ALICE", of: "acme")
            _ = try await store.saveAuthorization(authorization(key, refresh: refresh, access: access), now: Date())
            let sealed = try await subject.sealedTokens()
            #expect(sealed.count == 2)
            for bytes in sealed {
                for secret in [refresh, access] {
                    #expect(Data(bytes).range(of: Data(secret.utf8)) == nil, "a token is readable in the database")
                }
            }
            // Sealed exactly as every store seals: the same cipher opens the stored bytes.
            let cipher = try TokenCipher(keyBytes: subject.key)
            #expect(sealed.compactMap { try? cipher.open($0, for: key, field: .refreshToken) } == [refresh])
            let refused = await #expect(throws: StoreError.self) { _ = try await subject.open([UInt8](repeating: 7, count: 32)) }
            guard case .wrongKey = refused else { Issue.record("a wrong key gave \(String(describing: refused))"); return }
            #expect(try await subject.another().tokens(for: key)?.accessToken == access)
        }
    }
}
