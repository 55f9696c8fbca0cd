import Foundation

extension SQLiteGrantStore {
    /// Prepares a refresh asked for by a person or program (`imanage-tokend refresh`): the grant
    /// is due at `at`, and its backoff starts over (the failure count is reset, the last error kept).
    /// Returns `false` when the grant no longer exists.
    @discardableResult
    public func requestRefresh(ofGrant id: Int64, at: Date, now: Date = Date()) async throws -> Bool {
        try await write { db in
            try db.prepare("UPDATE grants SET next_refresh_at = ?, consecutive_failures = 0, updated_at = ? WHERE id = ?")
                .bind(at, now, id).run()
            return db.changes > 0
        }
    }
}
