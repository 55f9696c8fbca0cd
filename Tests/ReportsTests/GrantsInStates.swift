import Foundation
import TokendPolicy
import TokendStore
import TokendTestSupport

/// A real database holding grants in the states a report must tell apart, written the way the
/// daemon writes them (authorisation, then refresh outcomes), at a fixed `now`.
struct GrantsInStates {
    let directory: URL
    let store: SQLiteGrantStore
    let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-reports-\(UUID().uuidString)")
        store = try SQLiteGrantStore(path: directory.appendingPathComponent("tokend.sqlite").path, key: (0..<32).map { _ in 7 })
    }

    func cleanUp() { try? FileManager.default.removeItem(at: directory) }

    static let bob = AuthorizedIdentity.bob
    static let alice = AuthorizedIdentity.alice

    /// An authorised grant whose access token has 30 minutes and whose refresh token has `refreshDaysLeft` days.
    @discardableResult
    func authorized(_ key: GrantKey, by identity: AuthorizedIdentity = alice, refreshDaysLeft: Double = 300) async throws -> Int64 {
        try await store.seed(.seeded(
            key, by: identity, refreshToken: "rt-\(key.subject)", refreshLife: refreshDaysLeft * 86_400, accessToken: "at-\(key.subject)",
            nextRefreshAt: now.addingTimeInterval(900), message: "authorised by \(identity.name)", now: now), now: now)
    }

    /// An authorised grant that then got `status` with `failure`, as a refresh outcome writes it.
    func failed(_ key: GrantKey, status: GrantStatus, failure: RefreshFailure, next: Date?) async throws {
        let id = try await authorized(key)
        var update = GrantUpdate(status: status, message: "refresh failed: \(failure)", nextRefreshAt: next)
        update.failure = failure
        try await store.apply(update, toGrant: id, claimedBy: nil, now: now)
    }

    func records() throws -> [GrantRecord] { try store.records() }
}
