import Foundation

/// A token together with when it was issued and when it stops working.
public struct IssuedToken: Sendable, Equatable, CustomStringConvertible {
    public var token: String
    public var issuedAt: Date
    public var expiresAt: Date

    public init(token: String, issuedAt: Date, expiresAt: Date) {
        self.token = token
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    public var description: String { "IssuedToken(expires \(expiresAt))" }
}

/// A status change that was written, for the caller to log.
public struct StatusTransition: Sendable, Equatable {
    public var key: GrantKey
    public var previous: GrantStatus?
    public var current: GrantStatus
    public var changed: Bool { previous != current }

    public init(
        key: GrantKey, previous: GrantStatus? = nil, current: GrantStatus
    ) {
        self.key = key
        self.previous = previous
        self.current = current
    }
}

/// A grant newly authorised by a person (the web flow) or brought in by `import`.
public struct NewAuthorization: Sendable {
    public var key: GrantKey
    public var identity: AuthorizedIdentity
    public var refreshToken: IssuedToken
    public var accessToken: IssuedToken?
    public var nextRefreshAt: Date?
    public var nrtadminCheckedAt: Date?
    public var message: String
    /// The organisation's configured `customer_id`; without one, the first authorisation pins the
    /// customer `identity` reports. Either way a grant of another customer is refused when saved.
    public var configuredCustomerID: String?

    public init(
        key: GrantKey, identity: AuthorizedIdentity, refreshToken: IssuedToken, accessToken: IssuedToken?,
        nextRefreshAt: Date?, nrtadminCheckedAt: Date? = nil, message: String, configuredCustomerID: String? = nil
    ) {
        self.key = key
        self.identity = identity
        self.refreshToken = refreshToken
        self.accessToken = accessToken
        self.nextRefreshAt = nextRefreshAt
        self.nrtadminCheckedAt = nrtadminCheckedAt
        self.message = message
        self.configuredCustomerID = configuredCustomerID
    }
}

/// The outcome of a refresh (or a check) to write for one grant, in one transaction.
public struct GrantUpdate: Sendable {
    public var status: GrantStatus
    /// The event message, recorded when the status changes (or always, with `alwaysRecordEvent`).
    public var message: String
    public var alwaysRecordEvent = false
    public var newAccessToken: IssuedToken?
    /// A rotated refresh token; `nil` keeps the stored one (an answer without one never erases it).
    public var newRefreshToken: IssuedToken?
    public var nextRefreshAt: Date?
    /// The refresh succeeded: `last_refresh_at` is now, failures and the last error are cleared.
    public var succeeded = false
    /// The refresh failed: counted, and kept as the last error.
    public var failure: RefreshFailure?
    public var nrtadminCheckedAt: Date?
    /// The event is a refresh-token expiry warning (notified, like a status change).
    public var refreshTokenWarning = false

    public init(status: GrantStatus, message: String, nextRefreshAt: Date?) {
        self.status = status
        self.message = message
        self.nextRefreshAt = nextRefreshAt
    }
}

/// A refresh this process now owns: the grant as it stood and its refresh token.
public struct ClaimedRefresh: Sendable {
    public var record: GrantRecord
    public var refreshToken: String
    /// The claim this one replaced: a refresh that was out when its process stopped.
    public var abandonedClaim: (owner: String, since: Date)?
    /// The database is a restored backup taken then, and this grant's refresh token predates it with no
    /// attempt since: if iManage rotated the token after the backup, the stored one is spent.
    public var restoredBackupTakenAt: Date?

    public init(
        record: GrantRecord, refreshToken: String, abandonedClaim: (owner: String, since: Date)? = nil,
        restoredBackupTakenAt: Date? = nil
    ) {
        self.record = record
        self.refreshToken = refreshToken
        self.abandonedClaim = abandonedClaim
        self.restoredBackupTakenAt = restoredBackupTakenAt
    }
}

extension ClaimedRefresh: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    // The refresh token never shows in interpolation, `dump` or a failing test's message.
    public var description: String { "ClaimedRefresh(grant: \(record.key), refreshToken: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["record": record, "refreshToken": "<redacted>"], displayStyle: .struct)
    }
}

/// The few facts the scheduler keeps per grant.
public struct ScheduleEntry: Sendable, Equatable {
    public var id: Int64
    public var organisation: String
    public var status: GrantStatus
    public var nextRefreshAt: Date?
    public var accessExpiresAt: Date?
    /// A refresh was out when the last process stopped: its outcome is uncertain.
    public var refreshWasInFlight: Bool

    public init(
        id: Int64, organisation: String, status: GrantStatus, nextRefreshAt: Date? = nil,
        accessExpiresAt: Date? = nil, refreshWasInFlight: Bool
    ) {
        self.id = id
        self.organisation = organisation
        self.status = status
        self.nextRefreshAt = nextRefreshAt
        self.accessExpiresAt = accessExpiresAt
        self.refreshWasInFlight = refreshWasInFlight
    }
}
