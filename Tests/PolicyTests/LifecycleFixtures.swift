import Foundation
import TokendPolicy

/// Grants as the store would hand them to the lifecycle rules, at a fixed `now`: no database.
enum LifecycleFixtures {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let alice = AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice Admin", customerID: "1")

    /// An authorised library grant of `demo`, refreshed a while ago, whose access token expires `accessLeft` from now.
    static func record(
        _ status: GrantStatus = .authorized, kind: GrantKind = .library, accessLeft: TimeInterval? = 900,
        failures: Int = 0, refreshTokenLeft: TimeInterval = 300 * 86_400, lastRefreshAgo: TimeInterval? = 900,
        nrtadminCheckedAgo: TimeInterval? = 3_600, createdAgo: TimeInterval = 10 * 86_400
    ) -> GrantRecord {
        let key = kind == .library ? GrantKey.library("ACTIVE", of: "demo") : GrantKey.user("ALICE", of: "demo")
        return GrantRecord(
            id: 1, key: key, status: status, authorizedBy: alice,
            accessIssuedAt: now.addingTimeInterval(-900), accessExpiresAt: accessLeft.map { now.addingTimeInterval($0) },
            nextRefreshAt: now,
            refreshTokenIssuedAt: now.addingTimeInterval(refreshTokenLeft - 365 * 86_400),
            refreshTokenExpiresAt: now.addingTimeInterval(refreshTokenLeft),
            lastRefreshAt: lastRefreshAgo.map { now.addingTimeInterval(-$0) },
            lastAttemptAt: lastRefreshAgo.map { now.addingTimeInterval(-$0) },
            consecutiveFailures: failures,
            nrtadminCheckedAt: kind == .library ? nrtadminCheckedAgo.map { now.addingTimeInterval(-$0) } : nil,
            hasRefreshToken: true, createdAt: now.addingTimeInterval(-createdAgo), updatedAt: now)
    }

    static func claim(
        _ record: GrantRecord = record(), interrupted: Bool = false, restoredBackupTakenAt: Date? = nil
    ) -> ClaimedRefresh {
        ClaimedRefresh(
            record: record, refreshToken: "rt-secret",
            abandonedClaim: interrupted ? (owner: "daemon:1:1", since: now.addingTimeInterval(-120)) : nil,
            restoredBackupTakenAt: restoredBackupTakenAt)
    }

    static func tokens(expiresIn: TimeInterval = 1800, rotated: Bool = true) -> TokenResponse {
        TokenResponse(accessToken: "at-new", refreshToken: rotated ? "rt-new" : nil, expiresIn: expiresIn, tokenType: "Bearer")
    }
}
