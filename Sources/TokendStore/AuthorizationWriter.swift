import Foundation
import TokendPolicy

/// Writes new authorisations inside one open transaction, with its statements prepared once for
/// all of them: the customer binding, the grant row (replacing any earlier grant of the key) and
/// the event. Made and dropped inside one write job, so the statements never outlive it.
struct AuthorizationWriter {
    /// A new authorisation with its tokens already sealed (sealing happens outside the write lock).
    struct Sealed: Sendable {
        let authorization: NewAuthorization
        let refreshToken: [UInt8]
        let accessToken: [UInt8]?
        let fingerprint: String
    }

    private let db: SQLiteConnection
    private let selectPin: SQLiteStatement
    private let insertPin: SQLiteStatement
    private let selectStatus: SQLiteStatement
    private let upsertGrant: SQLiteStatement
    private let insertEvent: SQLiteStatement

    init(_ db: SQLiteConnection) throws(StoreError) {
        self.db = db
        selectPin = try db.prepare("SELECT customer_id FROM organisations WHERE name = ?")
        insertPin = try db.prepare("INSERT INTO organisations (name, customer_id, pinned_at, pinned_by) VALUES (?, ?, ?, ?)")
        selectStatus = try db.prepare("SELECT status FROM grants WHERE organisation = ? AND kind = ? AND subject = ?")
        upsertGrant = try db.prepare("""
            INSERT INTO grants (organisation, kind, subject, status, user_id, user_email, user_name, customer_id,
                refresh_token, refresh_token_fingerprint, refresh_token_issued_at, refresh_token_expires_at,
                access_token, access_issued_at, access_expires_at, next_refresh_at, last_refresh_at,
                nrtadmin_checked_at, created_at, updated_at)
            VALUES (?1, ?2, ?3, 'authorized', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?16, ?16)
            ON CONFLICT (organisation, kind, subject) DO UPDATE SET
                status = 'authorized', user_id = ?4, user_email = ?5, user_name = ?6, customer_id = ?7,
                refresh_token = ?8, refresh_token_fingerprint = ?9, refresh_token_issued_at = ?10,
                refresh_token_expires_at = ?11, access_token = ?12, access_issued_at = ?13,
                access_expires_at = ?14, next_refresh_at = ?15, last_refresh_at = ?16, last_attempt_at = NULL,
                consecutive_failures = 0, last_error = NULL, last_error_class = NULL, last_http_status = NULL,
                nrtadmin_checked_at = ?17, in_flight_since = NULL, in_flight_owner = NULL, updated_at = ?16
            """)
        insertEvent = try db.prepare("""
            INSERT INTO events (at, organisation, kind, subject, status, previous_status, error_class, http_status, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// Binds the organisation's customer (pinning it if this is the first grant, throwing
    /// `otherCustomer` if the grant is of another), stores the grant and records the event.
    /// Returns the status the key had before. The caller wraps it in a savepoint.
    func write(_ sealed: Sealed, now: Date) throws -> GrantStatus? {
        let authorization = sealed.authorization
        let key = authorization.key
        let identity = authorization.identity
        let pinned = try Self.firstText(of: selectPin.bind(key.organisation))
        switch CustomerRule.decide(reported: identity.customerID, configured: authorization.configuredCustomerID, pinned: pinned) {
        case .matches:
            break
        case .pins(let customer):
            try insertPin.bind(key.organisation, customer, now, authorization.message).run()
        case .refused(let expected):
            throw StoreError.otherCustomer(organisation: key.organisation, expected: expected, reported: identity.customerID)
        }
        let previous = try Self.firstText(of: selectStatus.bind(key.organisation, key.kind.rawValue, key.subject))
            .flatMap(GrantStatus.init(rawValue:))
        try upsertGrant.bind([
            key.organisation, key.kind.rawValue, key.subject,
            identity.userID, identity.email, identity.name, identity.customerID,
            sealed.refreshToken, sealed.fingerprint, authorization.refreshToken.issuedAt, authorization.refreshToken.expiresAt,
            sealed.accessToken, authorization.accessToken?.issuedAt, authorization.accessToken?.expiresAt,
            authorization.nextRefreshAt, now, authorization.nrtadminCheckedAt,
        ]).run()
        try insertEvent.bind(now, key.organisation, key.kind.rawValue, key.subject, GrantStatus.authorized.rawValue,
                             previous?.rawValue, nil, nil, authorization.message).run()
        return previous
    }

    /// The first column of a lookup's one row, the statement then run to its end so that no read
    /// is left open when a savepoint is rolled back.
    private static func firstText(of statement: SQLiteStatement) throws(StoreError) -> String? {
        guard try statement.step() else { return nil }
        let text = statement.string(0)
        while try statement.step() {}
        return text
    }
}

extension SQLiteGrantStore {
    /// Seals a new authorisation's tokens for its key.
    func seal(_ authorization: NewAuthorization) throws -> AuthorizationWriter.Sealed {
        let cipher = try self.cipher
        let key = authorization.key
        return AuthorizationWriter.Sealed(
            authorization: authorization,
            refreshToken: try cipher.seal(authorization.refreshToken.token, for: key, field: .refreshToken),
            accessToken: try authorization.accessToken.map { try cipher.seal($0.token, for: key, field: .accessToken) },
            fingerprint: TokenCipher.fingerprint(authorization.refreshToken.token))
    }
}
