import Foundation
import Testing
import TokendPolicy
@testable import TokendStore

/// docs/performance.md: the outcomes of refreshes sent together share one durable commit, because
/// the writer waits a moment (bounded) for outcomes it knows are on their way.
@Suite("Group commit waits for outcomes on their way")
struct GroupCommitLingerTests {
    /// A writer on a scratch database that expects `expected` writes and waits up to `linger` for them.
    private func writer(linger: TimeInterval, expected: Int) throws -> (GroupCommitWriter, TemporaryDatabase) {
        let database = TemporaryDatabase()
        try FileManager.default.createDirectory(at: database.directory, withIntermediateDirectories: true)
        let connection = try SQLiteConnection(path: database.path, readOnly: false)
        try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE scratch (x INTEGER)")
        return (GroupCommitWriter(connection: connection, linger: linger, expectedWrites: { expected }), database)
    }

    @Test("two expected writes arriving 50 ms apart share one commit")
    func expectedWritesShareOneCommit() async throws {
        let (writer, database) = try writer(linger: 5, expected: 2)
        defer { database.cleanUp() }
        async let first: Void = writer.write { try $0.execute("INSERT INTO scratch VALUES (1)") }
        try await Task.sleep(for: .milliseconds(50))
        try await writer.write { try $0.execute("INSERT INTO scratch VALUES (2)") }
        try await first
        #expect(writer.commits == 1, "each write took its own fsync")
        #expect(writer.writes == 2)
    }

    // The bound is loose on purpose: under a full parallel test run a single write has taken 10 s
    // (Dispatch threads busy elsewhere); without the linger's deadline it would never return.
    @Test("a write expected but not coming holds the commit no longer than the linger", .timeLimit(.minutes(1)))
    func lingerIsBounded() async throws {
        let (writer, database) = try writer(linger: 0.2, expected: 5)
        defer { database.cleanUp() }
        let started = ContinuousClock.now
        try await writer.write { try $0.execute("INSERT INTO scratch VALUES (1)") }
        #expect(ContinuousClock.now - started < .seconds(30), "the writer waited for writes that never came")
        #expect(writer.commits == 1)
    }

    @Test("a claim counts as an outcome on its way until its outcome is written, refused or not")
    func claimsAreCountedUntilTheirOutcome() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let store = try database.open()
        let key = GrantKey.user("ALICE", of: "acme")
        try await store.saveAuthorization(authorization(key, refresh: "RT-1", access: "AT-1"))
        let id = try #require(try store.record(for: key)).id
        #expect(store.outcomesExpected.value == 0)
        _ = try #require(try await store.claimRefresh(id: id, owner: "daemon:1", now: Date(), lease: 60))
        #expect(store.outcomesExpected.value == 1)
        try await store.apply(
            GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: Date()), toGrant: id, claimedBy: "daemon:1")
        #expect(store.outcomesExpected.value == 0)
        // An outcome refused because the claim was lost still stops being expected.
        _ = try #require(try await store.claimRefresh(id: id, owner: "daemon:1", now: Date(), lease: 60))
        await #expect(throws: StoreError.self) {
            try await store.apply(
                GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: Date()), toGrant: id, claimedBy: "daemon:other")
        }
        #expect(store.outcomesExpected.value == 0)
    }
}
