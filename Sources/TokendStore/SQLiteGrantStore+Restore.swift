import Foundation
import TokendPolicy

extension GrantRecord {
    /// On a database restored from a backup taken at `takenAt`: this grant still holds a refresh token
    /// from before the backup and no refresh has been tried since, so whether iManage rotated that
    /// token after the backup (leaving the stored one spent) cannot be told until it is tried.
    public func isUnconfirmed(sinceBackupTakenAt takenAt: Date) -> Bool {
        hasRefreshToken && (refreshTokenIssuedAt ?? .distantPast) < takenAt && (lastAttemptAt ?? .distantPast) < takenAt
    }
}

extension SQLiteGrantStore {
    /// On a restored copy, when its backup was taken and how many grants that are refreshed are
    /// still unconfirmed since (see ``GrantRecord/isUnconfirmed(sinceBackupTakenAt:)``); `nil` when it
    /// is not a restored copy. Grants waiting for a person are not counted: nothing tries them.
    public func grantsUnconfirmedSinceRestore() throws -> (takenAt: Date, count: Int)? {
        guard let takenAt = restoredBackupTakenAt else { return nil }
        let scheduled = GrantStatus.allCases.filter(\.isScheduled).map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let count = try read { db in
            let row = try db.prepare("""
                SELECT count(*) FROM grants WHERE refresh_token IS NOT NULL AND status IN (\(scheduled))
                  AND coalesce(refresh_token_issued_at, 0) < ?1 AND coalesce(last_attempt_at, 0) < ?1
                """).bind(takenAt)
            return try row.step() ? Int(row.int64(0)) : 0
        }
        return (takenAt, count)
    }
}
