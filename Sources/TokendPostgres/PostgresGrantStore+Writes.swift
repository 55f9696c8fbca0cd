import Foundation
import PostgresNIO
import TokendPolicy
import TokendStore

extension PostgresGrantStore {
    @discardableResult
    public func saveAuthorization(_ authorization: NewAuthorization, now: Date = Date()) async throws -> StatusTransition {
        let cipher = try self.cipher
        let key = authorization.key
        let refreshSealed = try cipher.seal(authorization.refreshToken.token, for: key, field: .refreshToken).bytea
        let accessSealed = try authorization.accessToken.map { try cipher.seal($0.token, for: key, field: .accessToken).bytea }
        let fingerprint = TokenCipher.fingerprint(authorization.refreshToken.token)
        let repeatAfter = outbox.repeatAfter
        let identity = authorization.identity
        let (transition, queued): (StatusTransition, Bool) = try await transaction { db in
            try await bindCustomer(
                db, organisation: key.organisation, reported: identity.customerID,
                configured: authorization.configuredCustomerID, pinnedBy: authorization.message, now: now)
            let previous = try await currentStatus(db, key, lock: true)
            try await db.query("""
                INSERT INTO grants (organisation, kind, subject, status, user_id, user_email, user_name, customer_id,
                    refresh_token, refresh_token_fingerprint, refresh_token_issued_at, refresh_token_expires_at,
                    access_token, access_issued_at, access_expires_at, next_refresh_at, last_refresh_at,
                    nrtadmin_checked_at, created_at, updated_at)
                VALUES (\(key.organisation), \(key.kind.rawValue), \(key.subject), 'authorized', \(identity.userID),
                    \(identity.email), \(identity.name), \(identity.customerID), \(refreshSealed), \(fingerprint),
                    \(authorization.refreshToken.issuedAt.epoch), \(authorization.refreshToken.expiresAt.epoch),
                    \(accessSealed), \(authorization.accessToken?.issuedAt.epoch), \(authorization.accessToken?.expiresAt.epoch),
                    \(authorization.nextRefreshAt.epoch), \(now.epoch), \(authorization.nrtadminCheckedAt.epoch), \(now.epoch), \(now.epoch))
                ON CONFLICT (organisation, kind, subject) DO UPDATE SET
                    status = 'authorized', user_id = excluded.user_id, user_email = excluded.user_email,
                    user_name = excluded.user_name, customer_id = excluded.customer_id,
                    refresh_token = excluded.refresh_token, refresh_token_fingerprint = excluded.refresh_token_fingerprint,
                    refresh_token_issued_at = excluded.refresh_token_issued_at,
                    refresh_token_expires_at = excluded.refresh_token_expires_at, access_token = excluded.access_token,
                    access_issued_at = excluded.access_issued_at, access_expires_at = excluded.access_expires_at,
                    next_refresh_at = excluded.next_refresh_at, last_refresh_at = excluded.last_refresh_at,
                    last_attempt_at = NULL, consecutive_failures = 0, last_error = NULL, last_error_class = NULL,
                    last_http_status = NULL, nrtadmin_checked_at = excluded.nrtadmin_checked_at,
                    in_flight_since = NULL, in_flight_owner = NULL, claimed_at = NULL, lease_expires_at = NULL,
                    version = grants.version + 1, updated_at = excluded.updated_at
                """, logger: logger)
            try await insertEvent(db, key: key, at: now, status: .authorized, previous: previous, failure: nil, message: authorization.message)
            let queued = try await queueNotification(db, key: key, previous: previous, current: .authorized, repeatAfter: repeatAfter, now: now)
            return (StatusTransition(key: key, previous: previous, current: .authorized), queued)
        }
        outbox.queued(queued)
        return transition
    }

    /// The claim of `GrantStore`: the row is locked (`SKIP LOCKED`: a row another daemon is
    /// claiming right now is simply not ours), a claim is older than `lease` by the database's
    /// clock (`claimed_at`), never a machine's, and the grant's version is raised and remembered as
    /// this claim's fencing token. `lease_expires_at` (claim + this claimer's lease) is what the
    /// shared schedule and `nodes` read. Claims that arrive together are made in one transaction
    /// (`PostgresClaimBatcher`).
    public func claimRefresh(
        id: Int64, owner: String, now: Date = Date(), lease: TimeInterval,
        ownerIsGone: @escaping @Sendable (String) -> Bool = { _ in false }
    ) async throws -> ClaimedRefresh? {
        _ = try cipher
        return try await withCheckedThrowingContinuation { answer in
            claims.claim(.init(id: id, owner: owner, now: now, lease: lease, ownerIsGone: ownerIsGone, answer: answer), in: self)
        }
    }

    @discardableResult
    public func apply(_ update: GrantUpdate, toGrant id: Int64, claimedBy owner: String?, now: Date = Date()) async throws -> StatusTransition {
        let cipher = try self.cipher
        let repeatAfter = outbox.repeatAfter
        let fence = owner.flatMap { owner in fences.withLock { $0[id] }.flatMap { $0.owner == owner ? $0 : nil } }
        // The claim ends with its outcome (or with finding it lost); another owner's attempt ends nothing.
        defer { if let fence { fences.withLock { if $0[id]?.owner == fence.owner { $0[id] = nil } } } }
        if let fence, repeatAfter == nil || NotificationRule.decide(
            key: fence.key, previous: fence.status, current: update.status, refreshTokenWarning: update.refreshTokenWarning) == nil {
            return try await applyInOneStatement(update, toGrant: id, fence: fence, cipher: cipher, repeatAfter: repeatAfter, now: now)
        }
        let (transition, queued): (StatusTransition, Bool) = try await transaction { db in
            let found = try await db.query("""
                SELECT organisation, kind, subject, status, in_flight_owner, version FROM grants WHERE id = \(id) FOR UPDATE
                """, logger: logger).first {
                    (GrantKey(try $0.string(0), try $0.string(1), try $0.string(2)),
                     try $0.string(3).flatMap(GrantStatus.init(rawValue:)), try $0.string(4), try $0.int64(5))
                }
            guard let (key, previous, holder, version) = found else { throw StoreError.grantNotFound(grant: "grant #\(id)") }
            if let owner {
                // Fencing: the claim must still be the one this process made (its version), not merely
                // one of the same owner's name; without a claim of this process there is nothing to write.
                guard holder == owner, let fence, fence.version == version else {
                    throw StoreError.claimLost(grant: key.description)
                }
            }
            var (assignments, binds) = try outcomeAssignments(update, of: key, endsClaim: owner != nil, cipher: cipher, now: now)
            binds.append(id)
            let idParameter = binds.count
            binds.append(version)
            try await db.query(PostgresQuery(
                unsafeSQL: "UPDATE grants SET \(assignments.joined(separator: ", ")) WHERE id = $\(idParameter) AND version = $\(idParameter + 1)",
                binds: binds), logger: logger)
            if previous != update.status || update.alwaysRecordEvent {
                try await insertEvent(db, key: key, at: now, status: update.status, previous: previous, failure: update.failure, message: update.message)
            }
            let queued = try await queueNotification(
                db, key: key, previous: previous, current: update.status, refreshTokenWarning: update.refreshTokenWarning,
                repeatAfter: repeatAfter, now: now)
            return (StatusTransition(key: key, previous: previous, current: update.status), queued)
        }
        outbox.queued(queued)
        return transition
    }

    /// The outcome of a claim of this process as one statement: the fenced update and its event in
    /// one round trip and one implicit transaction. Its commit is the moment a rotated refresh token
    /// is safe: each round trip before it was a window in which a SIGKILL lost the token iManage had
    /// just issued (and, where rotation has no grace period, the grant with it). Taken when the
    /// status at the claim queues no notification; a status set meanwhile by another daemon (a
    /// pause, a wait for the endpoint) is read in the same statement, and a notification it calls
    /// for follows in a transaction of its own.
    private func applyInOneStatement(
        _ update: GrantUpdate, toGrant id: Int64, fence: Fence, cipher: TokenCipher, repeatAfter: TimeInterval?, now: Date
    ) async throws -> StatusTransition {
        var (assignments, binds) = try outcomeAssignments(update, of: fence.key, endsClaim: true, cipher: cipher, now: now)
        func parameter(_ value: (some PostgresDynamicTypeEncodable)?) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        let sql = """
            WITH claimed AS (
                SELECT id, status FROM grants
                WHERE id = \(parameter(id)) AND version = \(parameter(fence.version)) AND in_flight_owner = \(parameter(fence.owner))
                FOR UPDATE),
            updated AS (
                UPDATE grants SET \(assignments.joined(separator: ", ")) FROM claimed WHERE grants.id = claimed.id
                RETURNING grants.organisation, grants.kind, grants.subject, claimed.status AS previous),
            recorded AS (
                INSERT INTO events (at, organisation, kind, subject, status, previous_status, error_class, http_status, message)
                SELECT \(parameter(now.epoch)), organisation, kind, subject, \(parameter(update.status.rawValue)), previous,
                    \(parameter(update.failure?.failureClass.rawValue))::text,
                    \(parameter(update.failure?.httpStatus.map(Int64.init)))::integer, \(parameter(update.message))
                FROM updated
                WHERE previous IS DISTINCT FROM \(parameter(update.status.rawValue)) OR \(parameter(update.alwaysRecordEvent))::boolean)
            SELECT previous FROM updated
            """
        let written = try await mapErrors {
            try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect { try $0.string(0) }
        }
        guard let row = written.first else {
            // Re-authorised, revoked or taken over while the request was out: the newer state stands.
            let exists = try await query("SELECT 1 FROM grants WHERE id = \(id)").first { _ in true } ?? false
            throw exists ? StoreError.claimLost(grant: fence.key.description) : StoreError.grantNotFound(grant: "grant #\(id)")
        }
        let previous = row.flatMap(GrantStatus.init(rawValue:))
        if previous != fence.status, repeatAfter != nil {
            let queued = try await transaction { db in
                try await queueNotification(
                    db, key: fence.key, previous: previous, current: update.status, refreshTokenWarning: update.refreshTokenWarning,
                    repeatAfter: repeatAfter, now: now)
            }
            outbox.queued(queued)
        }
        return StatusTransition(key: fence.key, previous: previous, current: update.status)
    }

    /// The `SET` list of an outcome (status, next refresh, the sealed new tokens, failure or success
    /// bookkeeping) with its bindings; `endsClaim` clears the claim's owner and lease.
    private func outcomeAssignments(
        _ update: GrantUpdate, of key: GrantKey, endsClaim: Bool, cipher: TokenCipher, now: Date
    ) throws -> (assignments: [String], binds: PostgresBindings) {
        var binds = PostgresBindings()
        var assignments: [String] = []
        func set(_ column: String, _ value: (inout PostgresBindings) throws -> Void) rethrows {
            try value(&binds)
            assignments.append("\(column) = $\(binds.count)")
        }
        set("status") { $0.append(update.status.rawValue) }
        set("next_refresh_at") { $0.append(update.nextRefreshAt.epoch) }
        set("updated_at") { $0.append(now.epoch) }
        assignments.append("version = version + 1")
        if endsClaim { assignments += ["in_flight_since = NULL", "in_flight_owner = NULL", "claimed_at = NULL", "lease_expires_at = NULL"] }
        if let access = update.newAccessToken {
            let sealed = try cipher.seal(access.token, for: key, field: .accessToken).bytea
            set("access_token") { $0.append(sealed) }
            set("access_issued_at") { $0.append(access.issuedAt.epoch) }
            set("access_expires_at") { $0.append(access.expiresAt.epoch) }
        }
        if let refresh = update.newRefreshToken {
            let sealed = try cipher.seal(refresh.token, for: key, field: .refreshToken).bytea
            set("refresh_token") { $0.append(sealed) }
            set("refresh_token_fingerprint") { $0.append(TokenCipher.fingerprint(refresh.token)) }
            set("refresh_token_issued_at") { $0.append(refresh.issuedAt.epoch) }
            set("refresh_token_expires_at") { $0.append(refresh.expiresAt.epoch) }
        }
        if update.succeeded {
            set("last_refresh_at") { $0.append(now.epoch) }
            assignments += ["consecutive_failures = 0", "last_error = NULL", "last_error_class = NULL", "last_http_status = NULL"]
        }
        if let failure = update.failure {
            assignments.append("consecutive_failures = consecutive_failures + 1")
            set("last_error") { $0.append(failure.description) }
            set("last_error_class") { $0.append(failure.failureClass.rawValue) }
            set("last_http_status") { $0.append(failure.httpStatus.map(Int64.init)) }
        }
        if let checked = update.nrtadminCheckedAt {
            set("nrtadmin_checked_at") { $0.append(checked.epoch) }
        }
        return (assignments, binds)
    }

    @discardableResult
    public func setStatus(
        _ status: GrantStatus, ofGrants ids: [Int64], message: String, failure: RefreshFailure? = nil,
        nextRefreshAt: Date? = nil, now: Date = Date()
    ) async throws -> [StatusTransition] {
        let repeatAfter = outbox.repeatAfter
        let (transitions, queued): ([StatusTransition], Bool) = try await transaction { db in
            var transitions: [StatusTransition] = []
            var queued = false
            for id in ids {
                let found = try await db.query("""
                    SELECT organisation, kind, subject, status FROM grants WHERE id = \(id) FOR UPDATE
                    """, logger: logger).first {
                        (GrantKey(try $0.string(0), try $0.string(1), try $0.string(2)), try $0.string(3).flatMap(GrantStatus.init(rawValue:)))
                    }
                guard let (key, previous) = found else { continue }
                try await db.query("""
                    UPDATE grants SET status = \(status.rawValue), next_refresh_at = \(nextRefreshAt.epoch), updated_at = \(now.epoch),
                        last_error = coalesce(\(failure?.description)::text, last_error),
                        last_error_class = coalesce(\(failure?.failureClass.rawValue)::text, last_error_class),
                        last_http_status = coalesce(\(failure?.httpStatus.map(Int64.init))::integer, last_http_status)
                    WHERE id = \(id)
                    """, logger: logger)
                if previous != status {
                    try await insertEvent(db, key: key, at: now, status: status, previous: previous, failure: failure, message: message)
                }
                if try await queueNotification(db, key: key, previous: previous, current: status, repeatAfter: repeatAfter, now: now) {
                    queued = true
                }
                transitions.append(StatusTransition(key: key, previous: previous, current: status))
            }
            return (transitions, queued)
        }
        outbox.queued(queued)
        return transitions
    }

    @discardableResult
    public func remove(_ key: GrantKey, message: String, now: Date = Date()) async throws -> StatusTransition? {
        try await transaction { db in
            guard let previous = try await currentStatus(db, key, lock: true) else { return nil }
            try await db.query("""
                DELETE FROM grants WHERE organisation = \(key.organisation) AND kind = \(key.kind.rawValue) AND subject = \(key.subject)
                """, logger: logger)
            try await insertEvent(db, key: key, at: now, status: .unauthorized, previous: previous, failure: nil, message: message)
            return StatusTransition(key: key, previous: previous, current: .unauthorized)
        }
    }

    @discardableResult
    public func requestRefresh(ofGrant id: Int64, at: Date, now: Date = Date()) async throws -> Bool {
        try await transaction { db in
            try await db.query("""
                UPDATE grants SET next_refresh_at = \(at.epoch), consecutive_failures = 0, updated_at = \(now.epoch)
                WHERE id = \(id) RETURNING id
                """, logger: logger).first { try $0.int64(0) } != nil
        }
    }

    /// As SQLite's: at most `limit` events older than `cutoff`, never a grant's latest.
    @discardableResult
    public func pruneEvents(olderThan cutoff: Date, limit: Int) async throws -> Int {
        try await transaction { db in
            try await db.query("""
                DELETE FROM events WHERE id IN (
                    SELECT e.id FROM events e
                    WHERE e.at < \(cutoff.epoch)
                      AND e.id <> (SELECT l.id FROM events l
                                   WHERE l.organisation = e.organisation AND l.kind = e.kind AND l.subject = e.subject
                                   ORDER BY l.at DESC, l.id DESC LIMIT 1)
                    ORDER BY e.at, e.id LIMIT \(Int64(limit)))
                RETURNING id
                """, logger: logger).collect { _ in () }.count
        }
    }

    // MARK: Inside a transaction

    func currentStatus(_ db: PostgresConnection, _ key: GrantKey, lock: Bool) async throws -> GrantStatus? {
        try await db.query("""
            SELECT status FROM grants
            WHERE organisation = \(key.organisation) AND kind = \(key.kind.rawValue) AND subject = \(key.subject)
            \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger).first { try $0.string(0).flatMap(GrantStatus.init(rawValue:)) } ?? nil
    }

    func insertEvent(
        _ db: PostgresConnection, key: GrantKey, at: Date, status: GrantStatus, previous: GrantStatus?,
        failure: RefreshFailure?, message: String
    ) async throws {
        try await db.query("""
            INSERT INTO events (at, organisation, kind, subject, status, previous_status, error_class, http_status, message)
            VALUES (\(at.epoch), \(key.organisation), \(key.kind.rawValue), \(key.subject), \(status.rawValue), \(previous?.rawValue),
                    \(failure?.failureClass.rawValue), \(failure?.httpStatus.map(Int64.init))::integer, \(message))
            """, logger: logger)
    }

    /// Applies `CustomerRule` inside an authorisation's transaction. The organisation's row is
    /// locked (or, for a first pin, the insert waits on the other's) so two first authorisations
    /// of different customers on two daemons cannot both be stored.
    func bindCustomer(
        _ db: PostgresConnection, organisation: String, reported: String, configured: String?, pinnedBy: String, now: Date
    ) async throws {
        let pinned = try await db.query("SELECT customer_id FROM organisations WHERE name = \(organisation) FOR UPDATE", logger: logger)
            .first { try $0.string(0) } ?? nil
        switch CustomerRule.decide(reported: reported, configured: configured, pinned: pinned) {
        case .matches:
            return
        case .pins(let customer):
            let inserted = try await db.query("""
                INSERT INTO organisations (name, customer_id, pinned_at, pinned_by) VALUES (\(organisation), \(customer), \(now.epoch), \(pinnedBy))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: logger).first { _ in true } ?? false
            if !inserted {
                // Another daemon pinned it between our read and our insert: decide again against its pin.
                try await bindCustomer(db, organisation: organisation, reported: reported, configured: configured, pinnedBy: pinnedBy, now: now)
            }
        case .refused(let expected):
            throw StoreError.otherCustomer(organisation: organisation, expected: expected, reported: reported)
        }
    }
}
