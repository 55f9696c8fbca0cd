import Foundation
import Testing
import TokendPolicy
import TokendTestSupport
import PostgresNIO
@testable import TokendPostgres
@testable import TokendStore

/// What only the PostgreSQL store does: several daemons' heartbeats and shared schedule, the
/// schema made once under its advisory lock, and `migrate` from SQLite.
@Suite("PostgreSQL store", .enabled(if: PostgreSQLTestServer.isInstalled, "no PostgreSQL server here: apt-get install postgresql"))
struct PostgresStoreTests {
    @Test("many daemons opening a new database at once all succeed, and the schema is made once")
    func concurrentFirstOpen() async throws {
        let settings = try await PostgreSQLTestServer.newDatabase()
        let key = [UInt8](repeating: 3, count: 32)
        let failures = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do { try await PostgresGrantStore.open(settings, key: key).close(); return nil } catch { return "\(error)" }
                }
            }
            return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
        }
        #expect(failures.isEmpty, "\(failures)")
        let store = try await PostgresGrantStore.open(settings, key: nil, mode: .readOnly)
        defer { store.close() }
        #expect(try await store.records().isEmpty)
    }

    /// Issue 14: claims of due grants in batches with `FOR UPDATE SKIP LOCKED`.
    @Test("claims that arrive together are made in batches; two daemons claiming the same grants at once get each grant once")
    func batchedClaims() async throws {
        let settings = try await PostgreSQLTestServer.newDatabase()
        let key = [UInt8](repeating: 5, count: 32)
        let first = try await PostgresGrantStore.open(settings, key: key)
        let second = try await PostgresGrantStore.open(settings, key: key)
        defer { first.close(); second.close() }
        let now = Date()
        for index in 0..<40 {
            _ = try await first.saveAuthorization(
                authorization(.library("LIB\(index)", of: "acme"), refresh: "rt-\(index)", access: "at-\(index)"), now: now)
        }
        let ids = try await first.records().map(\.id)
        #expect(ids.count == 40)
        func claimAll(_ store: PostgresGrantStore, as owner: String) async throws -> [Int64] {
            try await withThrowingTaskGroup(of: Int64?.self) { group in
                for id in ids {
                    group.addTask { try await store.claimRefresh(id: id, owner: owner, now: now, lease: 60)?.record.id }
                }
                return try await group.reduce(into: [Int64]()) { if let id = $1 { $0.append(id) } }
            }
        }
        async let a = claimAll(first, as: "daemon:a:1:1")
        async let b = claimAll(second, as: "daemon:b:2:1")
        let (claimedByA, claimedByB) = try await (a, b)
        #expect(Set(claimedByA).isDisjoint(with: claimedByB), "a grant claimed by both daemons")
        #expect(Set(claimedByA + claimedByB) == Set(ids), "a grant claimed by neither")
        #expect(first.claimBatchCount + second.claimBatchCount < 80, "every claim in a transaction of its own")
        // Each claim is fenced: the outcome of the daemon that holds it is written, the other's refused.
        let grant = try #require(claimedByA.first ?? claimedByB.first)
        let (holder, other) = claimedByA.contains(grant) ? (first, second) : (second, first)
        let holderName = claimedByA.contains(grant) ? "daemon:a:1:1" : "daemon:b:2:1"
        let otherName = claimedByA.contains(grant) ? "daemon:b:2:1" : "daemon:a:1:1"
        let done = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: now.addingTimeInterval(900))
        await #expect(throws: StoreError.self) { try await other.apply(done, toGrant: grant, claimedBy: otherName, now: now) }
        _ = try await holder.apply(done, toGrant: grant, claimedBy: holderName, now: now)
        #expect(try await first.record(id: grant)?.inFlightSince == nil)
    }

    @Test("a grant whose stored token cannot be opened fails its own claim, not the others claimed in its batch")
    func batchedClaimWithUnreadableToken() async throws {
        let settings = try await PostgreSQLTestServer.newDatabase()
        let store = try await PostgresGrantStore.open(settings, key: [UInt8](repeating: 6, count: 32))
        defer { store.close() }
        let now = Date()
        for index in 0..<12 {
            _ = try await store.saveAuthorization(
                authorization(.library("LIB\(index)", of: "acme"), refresh: "rt-\(index)", access: "at-\(index)"), now: now)
        }
        let ids = try await store.records().map(\.id)
        let damaged = try #require(ids.first)
        _ = try await store.query(PostgresQuery(unsafeSQL: "UPDATE grants SET refresh_token = '\\x00010203'::bytea WHERE id = \(damaged)"))
        let outcomes = await withTaskGroup(of: (Int64, Bool?).self) { group in
            for id in ids {
                group.addTask {
                    do { return (id, try await store.claimRefresh(id: id, owner: "daemon:a:1:1", now: now, lease: 60) != nil) }
                    catch { return (id, nil) }
                }
            }
            return await group.reduce(into: [Int64: Bool?]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes[damaged] == .some(nil), "the damaged grant's claim did not fail")
        for id in ids where id != damaged { #expect(outcomes[id] == .some(true), "grant \(id) was not claimed") }
        #expect(store.claimBatchCount < ids.count)
    }

    @Test("each daemon's heartbeat is listed, alive while it beats, and gone after a clean stop")
    func heartbeats() async throws {
        let settings = try await PostgreSQLTestServer.newDatabase()
        let store = try await PostgresGrantStore.open(settings, key: [UInt8](repeating: 1, count: 32))
        defer { store.close() }
        try await store.heartbeat(node: "daemon:a:1:1", host: "a", pid: 1)
        try await store.heartbeat(node: "daemon:b:2:1", host: "b", pid: 2)
        #expect(try await store.nodes(aliveWithin: 60).map(\.name) == ["daemon:a:1:1", "daemon:b:2:1"])
        #expect(try await store.nodes(aliveWithin: 60).allSatisfy(\.alive))
        try await Task.sleep(for: .milliseconds(1200))
        try await store.heartbeat(node: "daemon:b:2:1", host: "b", pid: 2)
        let nodes = try await store.nodes(aliveWithin: 1)
        #expect(nodes.map(\.alive) == [false, true], "a has not beaten for 1.2 s")
        try await store.removeNode("daemon:a:1:1")
        #expect(try await store.nodes(aliveWithin: 60).map(\.host) == ["b"])
    }

    @Test("the shared schedule: grants due soon are listed, a live claim is its owner's, a lapsed one is due at once")
    func dueGrants() async throws {
        let settings = try await PostgreSQLTestServer.newDatabase()
        let store = try await PostgresGrantStore.open(settings, key: [UInt8](repeating: 1, count: 32))
        defer { store.close() }
        let now = Date()
        var soon = authorization(.library("SOON", of: "acme"), refresh: "r", access: "a", now: now)
        soon.nextRefreshAt = now.addingTimeInterval(10)
        var later = authorization(.library("LATER", of: "acme"), refresh: "r", access: "a", now: now)
        later.nextRefreshAt = now.addingTimeInterval(3600)
        _ = try await store.saveAuthorization(soon, now: now)
        _ = try await store.saveAuthorization(later, now: now)
        let soonID = try #require(try await store.record(for: soon.key)).id
        let laterID = try #require(try await store.record(for: later.key)).id
        let due = try await store.dueGrants(before: now.addingTimeInterval(30), limit: 100)
        #expect(due.map(\.id) == [soonID] && due.allSatisfy { !$0.abandoned })
        #expect(abs((due.first?.nextRefreshAt ?? .distantPast).timeIntervalSince(now.addingTimeInterval(10))) < 0.000_01)
        // Claimed by a daemon that is then killed: not listed while its lease runs, due at once after.
        _ = try await store.claimRefresh(id: laterID, owner: "daemon:killed", now: now, lease: 2, ownerIsGone: { _ in false })
        _ = try await store.claimRefresh(id: soonID, owner: "daemon:live", now: now, lease: 60, ownerIsGone: { _ in false })
        #expect(try await store.dueGrants(before: now.addingTimeInterval(30), limit: 100).isEmpty)
        try await Task.sleep(for: .milliseconds(2300))
        #expect(try await store.dueGrants(before: now.addingTimeInterval(30), limit: 100).map(\.id) == [laterID])
        #expect(try await store.dueGrants(before: now.addingTimeInterval(30), limit: 100).first?.abandoned == true)
    }

    @Test("migrate copies every grant, event, pin and notification as stored; the same key opens them; ids carry on")
    func migrateFromSQLite() async throws {
        let sqlite = TemporaryDatabase()
        defer { sqlite.cleanUp() }
        let source = try sqlite.open()
        source.enableNotifications(repeatAfter: 3600)
        let start = Date(timeIntervalSince1970: 1_800_000_000.25)
        for index in 0..<30 {
            _ = try await source.saveAuthorization(authorization(.user("U\(index)", of: "acme"), refresh: "rt-\(index)", access: "at-\(index)", now: start), now: start)
        }
        let first = try #require(try source.record(for: .user("U0", of: "acme")))
        _ = try await source.apply(GrantUpdate(status: .needsReauth, message: "refused", nextRefreshAt: nil), toGrant: first.id, claimedBy: nil, now: start)
        let records = try source.records()
        let events = try source.events()
        let pending = try source.pendingNotifications()
        #expect(pending.count == 1)

        let settings = try await PostgreSQLTestServer.newDatabase()
        let target = try await PostgresGrantStore.open(settings, key: nil, mode: .schemaOnly)
        defer { target.close() }
        let copied = try await SQLiteToPostgres.copy(from: try SQLiteExport(path: sqlite.path), to: target)
        #expect(copied.rows["grants"] == 30 && copied.rows["events"] == 31 && copied.rows["organisations"] == 1)

        let store = try await PostgresGrantStore.open(settings, key: sqlite.key)
        defer { store.close() }
        #expect(try await store.records() == records)
        #expect(try await store.events() == events)
        #expect(try await store.pendingNotifications() == pending)
        #expect(try await store.pinnedCustomers() == (try source.pinnedCustomers()))
        #expect(try await store.tokens(for: .user("U7", of: "acme")) == GrantTokens(refreshToken: "rt-7", accessToken: "at-7"))
        // The key check came along: another key is refused.
        await #expect(throws: StoreError.wrongKey(path: settings.location)) {
            _ = try await PostgresGrantStore.open(settings, key: [UInt8](repeating: 9, count: 32))
        }
        // New rows get new ids, after the copied ones.
        _ = try await store.saveAuthorization(authorization(.user("NEW", of: "acme"), refresh: "r", access: "a"), now: Date())
        #expect(try #require(try await store.record(for: .user("NEW", of: "acme"))).id > records.map(\.id).max()!)
        // A second copy into the now-used database is refused, and changes nothing.
        await #expect(throws: SQLiteToPostgres.Refusal.self) {
            _ = try await SQLiteToPostgres.copy(from: try SQLiteExport(path: sqlite.path), to: target)
        }
        #expect(try await store.records().count == 31)
    }
}
