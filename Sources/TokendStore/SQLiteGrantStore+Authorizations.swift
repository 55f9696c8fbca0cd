import Foundation
import TokendPolicy

extension SQLiteGrantStore {
    /// Stores a grant a person just authorised, replacing any earlier grant of the same library or
    /// user (never a second one), and records the event.
    @discardableResult
    public func saveAuthorization(_ authorization: NewAuthorization, now: Date = Date()) async throws -> StatusTransition {
        try await saveAuthorizations([authorization], now: now)[0].get()
    }

    /// Stores many new authorisations in one transaction, so one durable commit carries them all,
    /// while each stands or falls alone: each is written in its own savepoint, and one that is
    /// refused (another customer's, bound inside the transaction) or fails is rolled back to it,
    /// leaving the others. Results come in the order given. When the commit itself fails, nothing
    /// is stored and this throws.
    public func saveAuthorizations(
        _ authorizations: [NewAuthorization], now: Date = Date()
    ) async throws -> [Result<StatusTransition, any Error>] {
        guard !authorizations.isEmpty else { return [] }
        // Sealing (AES-GCM) is done here, by the caller, not while holding the write lock.
        let sealed: [Result<AuthorizationWriter.Sealed, any Error>] = authorizations.map { authorization in
            Result { try seal(authorization) }
        }
        let repeatAfter = outbox.repeatAfter
        let (results, queued): ([Result<StatusTransition, any Error>], Bool) = try await write { db in
            let writer = try AuthorizationWriter(db)
            var results: [Result<StatusTransition, any Error>] = []
            results.reserveCapacity(sealed.count)
            var queued = false
            for item in sealed {
                let outcome = Result { () throws -> StatusTransition in
                    let grant = try item.get()
                    let key = grant.authorization.key
                    try db.execute("SAVEPOINT authorisation")
                    do {
                        let previous = try writer.write(grant, now: now)
                        if try Self.queueNotification(db, key: key, previous: previous, current: .authorized, repeatAfter: repeatAfter, now: now) {
                            queued = true
                        }
                        try db.execute("RELEASE authorisation")
                        return StatusTransition(key: key, previous: previous, current: .authorized)
                    } catch {
                        try? db.execute("ROLLBACK TO authorisation")
                        try? db.execute("RELEASE authorisation")
                        throw error
                    }
                }
                results.append(outcome)
            }
            return (results, queued)
        }
        outbox.queued(queued)
        return results
    }
}
