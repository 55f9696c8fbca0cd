import Foundation
import TokendPolicy

extension SQLiteGrantStore {
    /// Marks a refresh of grant `id` as in flight for `owner`, durably, before the request goes out.
    ///
    /// Returns `nil` when another live owner holds it. A claim older than `lease`, one whose owner
    /// `ownerIsGone` says has stopped, or one of `owner` itself left standing, is taken over and
    /// reported as `abandonedClaim`.
    public func claimRefresh(
        id: Int64, owner: String, now: Date = Date(), lease: TimeInterval,
        ownerIsGone: @escaping @Sendable (String) -> Bool = { _ in false }
    ) async throws -> ClaimedRefresh? {
        let cipher = try self.cipher
        let restored = restoredBackupTakenAt
        let claim: ClaimedRefresh? = try await write { db in
            let row = try db.cached(Self.claimSelect).bind(id)
            guard try row.step() else { return nil }
            let record = Self.record(from: row)
            guard let sealed = row.bytes(27) else { return nil }
            var abandoned: (owner: String, since: Date)?
            if let since = record.inFlightSince, let holder = record.inFlightOwner {
                // A claim of our own still standing is an earlier attempt whose outcome could not be
                // written (the disk filled after the request went out): just as uncertain as a crash's.
                if holder != owner {
                    guard now.timeIntervalSince(since) > lease || ownerIsGone(holder) else { return nil }
                }
                abandoned = (holder, since)
            }
            let refreshToken = try cipher.open(sealed, for: record.key, field: .refreshToken)
            try db.cached("UPDATE grants SET in_flight_since = ?, in_flight_owner = ?, last_attempt_at = ?, updated_at = ? WHERE id = ?")
                .bind(now, owner, now, now, id).run()
            return ClaimedRefresh(
                record: record, refreshToken: refreshToken, abandonedClaim: abandoned,
                restoredBackupTakenAt: restored.flatMap { record.isUnconfirmed(sinceBackupTakenAt: $0) ? $0 : nil })
        }
        // Its outcome follows once the request is answered (`apply` with `claimedBy`).
        if claim != nil { outcomesExpected.add(1) }
        return claim
    }

    /// Writes the outcome of a refresh of grant `id` — tokens, expiries, status, schedule and the
    /// event — in one transaction. With `claimedBy`, the claim must still be that owner's, and it is released.
    @discardableResult
    public func apply(_ update: GrantUpdate, toGrant id: Int64, claimedBy owner: String?, now: Date = Date()) async throws -> StatusTransition {
        // Counted until written: the writer waits for the outcomes still missing from its batch.
        defer { if owner != nil { outcomesExpected.add(-1) } }
        let cipher = try self.cipher
        let repeatAfter = outbox.repeatAfter
        let (transition, queued): (StatusTransition, Bool) = try await write { db in
            let row = try db.cached("SELECT organisation, kind, subject, status, in_flight_owner FROM grants WHERE id = ?").bind(id)
            guard try row.step() else { throw StoreError.grantNotFound(grant: "grant #\(id)") }
            let key = GrantKey(
                organisation: row.string(0) ?? "", kind: GrantKind(rawValue: row.string(1) ?? "") ?? .user,
                subject: row.string(2) ?? "")
            let previous = row.string(3).flatMap(GrantStatus.init(rawValue:))
            if let owner, row.string(4) != owner { throw StoreError.claimLost(grant: key.description) }

            var assignments = ["status = ?", "next_refresh_at = ?", "updated_at = ?"]
            var values: [(any SQLiteBindable)?] = [update.status.rawValue, update.nextRefreshAt, now]
            if owner != nil { assignments += ["in_flight_since = NULL", "in_flight_owner = NULL"] }
            if let access = update.newAccessToken {
                assignments += ["access_token = ?", "access_issued_at = ?", "access_expires_at = ?"]
                values += [try cipher.seal(access.token, for: key, field: .accessToken), access.issuedAt, access.expiresAt]
            }
            if let refresh = update.newRefreshToken {
                assignments += ["refresh_token = ?", "refresh_token_fingerprint = ?",
                                "refresh_token_issued_at = ?", "refresh_token_expires_at = ?"]
                values += [try cipher.seal(refresh.token, for: key, field: .refreshToken),
                           TokenCipher.fingerprint(refresh.token), refresh.issuedAt, refresh.expiresAt]
            }
            if update.succeeded {
                assignments += ["last_refresh_at = ?", "consecutive_failures = 0", "last_error = NULL",
                                "last_error_class = NULL", "last_http_status = NULL"]
                values.append(now)
            }
            if let failure = update.failure {
                assignments += ["consecutive_failures = consecutive_failures + 1", "last_error = ?",
                                "last_error_class = ?", "last_http_status = ?"]
                values += [failure.description, failure.failureClass.rawValue, failure.httpStatus]
            }
            if let checked = update.nrtadminCheckedAt {
                assignments.append("nrtadmin_checked_at = ?")
                values.append(checked)
            }
            values.append(id)
            try db.cached("UPDATE grants SET \(assignments.joined(separator: ", ")) WHERE id = ?").bind(values).run()
            if previous != update.status || update.alwaysRecordEvent {
                try Self.insertEvent(db, key: key, at: now, status: update.status, previous: previous,
                                     failure: update.failure, message: update.message)
            }
            let queued = try Self.queueNotification(
                db, key: key, previous: previous, current: update.status, refreshTokenWarning: update.refreshTokenWarning,
                repeatAfter: repeatAfter, now: now)
            return (StatusTransition(key: key, previous: previous, current: update.status), queued)
        }
        outbox.queued(queued)
        return transition
    }

    /// Sets the status of several grants at once (an organisation disabled or paused), with an
    /// event for each grant whose status changes.
    public func setStatus(
        _ status: GrantStatus, ofGrants ids: [Int64], message: String, failure: RefreshFailure? = nil,
        nextRefreshAt: Date? = nil, now: Date = Date()
    ) async throws -> [StatusTransition] {
        let repeatAfter = outbox.repeatAfter
        let (transitions, queued): ([StatusTransition], Bool) = try await write { db in
            var transitions: [StatusTransition] = []
            var queued = false
            for id in ids {
                let row = try db.prepare("SELECT organisation, kind, subject, status FROM grants WHERE id = ?").bind(id)
                guard try row.step() else { continue }
                let key = GrantKey(
                    organisation: row.string(0) ?? "", kind: GrantKind(rawValue: row.string(1) ?? "") ?? .user,
                    subject: row.string(2) ?? "")
                let previous = row.string(3).flatMap(GrantStatus.init(rawValue:))
                try db.prepare("""
                    UPDATE grants SET status = ?, next_refresh_at = ?, updated_at = ?,
                        last_error = coalesce(?, last_error), last_error_class = coalesce(?, last_error_class),
                        last_http_status = coalesce(?, last_http_status)
                    WHERE id = ?
                    """).bind(status.rawValue, nextRefreshAt, now, failure?.description,
                              failure?.failureClass.rawValue, failure?.httpStatus, id).run()
                if previous != status {
                    try Self.insertEvent(db, key: key, at: now, status: status, previous: previous, failure: failure, message: message)
                }
                if try Self.queueNotification(db, key: key, previous: previous, current: status, repeatAfter: repeatAfter, now: now) {
                    queued = true
                }
                transitions.append(StatusTransition(key: key, previous: previous, current: status))
            }
            return (transitions, queued)
        }
        outbox.queued(queued)
        return transitions
    }

    /// Removes a grant and its tokens (revoke, deauthorize), keeping its history with an event.
    @discardableResult
    public func remove(_ key: GrantKey, message: String, now: Date = Date()) async throws -> StatusTransition? {
        try await write { db in
            guard let previous = try Self.currentStatus(db, key) else { return nil }
            try db.prepare("DELETE FROM grants WHERE organisation = ? AND kind = ? AND subject = ?")
                .bind(key.organisation, key.kind.rawValue, key.subject).run()
            try Self.insertEvent(db, key: key, at: now, status: .unauthorized, previous: previous, failure: nil, message: message)
            return StatusTransition(key: key, previous: previous, current: .unauthorized)
        }
    }

    // MARK: Helpers inside a transaction

    /// A claim reads the whole record and the sealed refresh token (column 27).
    static let claimSelect = "SELECT \(recordColumns), refresh_token FROM grants WHERE id = ?"

    static func currentStatus(_ db: SQLiteConnection, _ key: GrantKey) throws -> GrantStatus? {
        let row = try db.cached("SELECT status FROM grants WHERE organisation = ? AND kind = ? AND subject = ?")
            .bind(key.organisation, key.kind.rawValue, key.subject)
        return try row.step() ? row.string(0).flatMap(GrantStatus.init(rawValue:)) : nil
    }

    static func insertEvent(
        _ db: SQLiteConnection, key: GrantKey, at: Date, status: GrantStatus, previous: GrantStatus?,
        failure: RefreshFailure?, message: String
    ) throws {
        try db.cached("""
            INSERT INTO events (at, organisation, kind, subject, status, previous_status, error_class, http_status, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).bind(at, key.organisation, key.kind.rawValue, key.subject, status.rawValue, previous?.rawValue,
                      failure?.failureClass.rawValue, failure?.httpStatus, message).run()
    }
}
