import Foundation
import Testing
import TokendPolicy
import TokendTestSupport
@testable import TokendStore

/// `saveAuthorisations` (`import --from`): many new grants in one transaction, each standing or
/// falling alone.
@Suite("Batched authorisations")
struct BatchAuthorizationTests {
    private static let otherFirm = AuthorizedIdentity(userID: "EVE", email: "eve@other.example", name: "Eve Other", customerID: "2")

    @Test("one commit stores the good grants; one of another customer (bound in the transaction) and one failing half-way are left out whole")
    func oneRefusedOthersStored() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let store = try database.open()
        // A grant of library BROKEN fails at its event, after its customer pin and its row were written.
        try await store.write { db in
            try db.execute("""
                CREATE TRIGGER refuse_broken BEFORE INSERT ON events WHEN NEW.subject = 'BROKEN'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                """)
        }
        let now = Date()
        let commitsBefore = store.commitStatistics.commits
        let results = try await store.saveAuthorizations([
            .seeded(.library("ACTIVE", of: "acme"), refreshToken: "r-active", accessToken: "a-active", nextRefreshAt: now, now: now),
            .seeded(.library("ARCHIVE", of: "acme"), by: Self.otherFirm, refreshToken: "r-archive", nextRefreshAt: now, now: now),
            .seeded(.library("BROKEN", of: "beta"), refreshToken: "r-broken", nextRefreshAt: now, now: now),
            .seeded(.user("BOB", of: "acme"), by: .bob, refreshToken: "r-bob", nextRefreshAt: now, now: now),
        ], now: now)

        #expect(store.commitStatistics.commits == commitsBefore + 1, "the batch is one transaction")
        #expect(results.count == 4)
        #expect((try? results[0].get()) == StatusTransition(key: .library("ACTIVE", of: "acme"), previous: nil, current: .authorized))
        guard case .failure(StoreError.otherCustomer(let organisation, let expected, let reported)) = results[1] else {
            Issue.record("the grant of another customer was not refused: \(results[1])")
            return
        }
        #expect((organisation, expected, reported) == ("acme", "1", "2"))
        #expect((try? results[2].get()) == nil, "the grant whose event failed is refused")
        #expect((try? results[3].get()) == StatusTransition(key: .user("BOB", of: "acme"), previous: nil, current: .authorized))

        let stored = try store.records().map(\.key)
        #expect(stored == [.library("ACTIVE", of: "acme"), .user("BOB", of: "acme")])
        #expect(try store.tokens(for: .library("ACTIVE", of: "acme"))?.refreshToken == "r-active")
        #expect(try store.pinnedCustomers().map(\.organisation) == ["acme"], "the failed grant's pin of beta was undone with it")
        #expect(try store.events().map(\.key) == [.library("ACTIVE", of: "acme"), .user("BOB", of: "acme")])
    }

    @Test("a grant given again replaces the earlier one, as a single authorisation does")
    func replacesEarlierGrant() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let store = try database.open()
        let key = GrantKey.library("ACTIVE", of: "acme")
        try await store.saveAuthorization(.seeded(key, refreshToken: "r-1", nextRefreshAt: nil))
        let results = try await store.saveAuthorizations([.seeded(key, refreshToken: "r-2", nextRefreshAt: nil)], now: Date())
        #expect((try? results[0].get())?.previous == .authorized)
        #expect(try store.records().count == 1)
        #expect(try store.tokens(for: key)?.refreshToken == "r-2")
    }
}
