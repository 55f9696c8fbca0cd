import Foundation

extension SQLiteGrantStore {
    /// Deletes at most `limit` events older than `cutoff`, oldest first, never the latest event of a
    /// grant (so `history` and `status` keep what each grant last came to, however old). One short
    /// transaction: the caller repeats it while it returns `limit`, letting refreshes in between.
    public func pruneEvents(olderThan cutoff: Date, limit: Int) async throws -> Int {
        try await write { db in
            try db.prepare("""
                DELETE FROM events WHERE id IN (
                    SELECT e.id FROM events e
                    WHERE e.at < ?1
                      AND e.id <> (SELECT l.id FROM events l
                                   WHERE l.organisation = e.organisation AND l.kind = e.kind AND l.subject = e.subject
                                   ORDER BY l.at DESC, l.id DESC LIMIT 1)
                    ORDER BY e.at, e.id LIMIT ?2)
                """).bind(cutoff, limit).run()
            return db.changes
        }
    }
}
