import Foundation

/// The iManage user whose refresh token serves a grant, as discovery (`GET /api`) reported them.
public struct AuthorizedIdentity: Sendable, Equatable, Codable {
    public var userID: String
    public var email: String
    public var name: String
    public var customerID: String

    public init(userID: String, email: String, name: String, customerID: String) {
        self.userID = userID
        self.email = email
        self.name = name
        self.customerID = customerID
    }
}

/// Everything stored about a grant except its tokens: what `status` shows and the engine schedules by.
public struct GrantRecord: Sendable, Equatable {
    public var id: Int64
    public var key: GrantKey
    public var status: GrantStatus
    public var authorizedBy: AuthorizedIdentity?
    public var accessIssuedAt: Date?
    public var accessExpiresAt: Date?
    public var nextRefreshAt: Date?
    public var refreshTokenIssuedAt: Date?
    public var refreshTokenExpiresAt: Date?
    /// Short hash of the current refresh token, to tell chains apart in logs ("rt:1a2b3c4d").
    public var refreshTokenFingerprint: String?
    public var lastRefreshAt: Date?
    public var lastAttemptAt: Date?
    public var consecutiveFailures: Int
    public var lastError: String?
    public var lastErrorClass: String?
    public var lastHTTPStatus: Int?
    public var nrtadminCheckedAt: Date?
    /// Set while a refresh request is out: written before the request, cleared with its outcome.
    public var inFlightSince: Date?
    public var inFlightOwner: String?
    public var hasRefreshToken: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, key: GrantKey, status: GrantStatus, authorizedBy: AuthorizedIdentity? = nil,
        accessIssuedAt: Date? = nil, accessExpiresAt: Date? = nil, nextRefreshAt: Date? = nil,
        refreshTokenIssuedAt: Date? = nil, refreshTokenExpiresAt: Date? = nil,
        refreshTokenFingerprint: String? = nil, lastRefreshAt: Date? = nil, lastAttemptAt: Date? = nil,
        consecutiveFailures: Int, lastError: String? = nil, lastErrorClass: String? = nil,
        lastHTTPStatus: Int? = nil, nrtadminCheckedAt: Date? = nil, inFlightSince: Date? = nil,
        inFlightOwner: String? = nil, hasRefreshToken: Bool, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.key = key
        self.status = status
        self.authorizedBy = authorizedBy
        self.accessIssuedAt = accessIssuedAt
        self.accessExpiresAt = accessExpiresAt
        self.nextRefreshAt = nextRefreshAt
        self.refreshTokenIssuedAt = refreshTokenIssuedAt
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.refreshTokenFingerprint = refreshTokenFingerprint
        self.lastRefreshAt = lastRefreshAt
        self.lastAttemptAt = lastAttemptAt
        self.consecutiveFailures = consecutiveFailures
        self.lastError = lastError
        self.lastErrorClass = lastErrorClass
        self.lastHTTPStatus = lastHTTPStatus
        self.nrtadminCheckedAt = nrtadminCheckedAt
        self.inFlightSince = inFlightSince
        self.inFlightOwner = inFlightOwner
        self.hasRefreshToken = hasRefreshToken
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A grant's decrypted tokens. Its description never shows them.
public struct GrantTokens: Sendable, Equatable, CustomStringConvertible {
    public var refreshToken: String?
    public var accessToken: String?

    public init(refreshToken: String?, accessToken: String?) {
        self.refreshToken = refreshToken
        self.accessToken = accessToken
    }

    public var description: String { "GrantTokens(redacted)" }
}

/// One status change of one grant, kept for `history`.
public struct GrantEvent: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    public var key: GrantKey
    public var status: GrantStatus
    public var previousStatus: GrantStatus?
    public var errorClass: String?
    public var httpStatus: Int?
    public var message: String

    public init(
        id: Int64, at: Date, key: GrantKey, status: GrantStatus, previousStatus: GrantStatus? = nil,
        errorClass: String? = nil, httpStatus: Int? = nil, message: String
    ) {
        self.id = id
        self.at = at
        self.key = key
        self.status = status
        self.previousStatus = previousStatus
        self.errorClass = errorClass
        self.httpStatus = httpStatus
        self.message = message
    }
}

/// Which events `history` asks for.
public struct EventFilter: Sendable {
    public var organisation: String?
    public var kind: GrantKind?
    public var subject: String?
    public var since: Date?
    public var limit: Int?

    public init(organisation: String? = nil, kind: GrantKind? = nil, subject: String? = nil, since: Date? = nil, limit: Int? = nil) {
        self.organisation = organisation
        self.kind = kind
        self.subject = subject
        self.since = since
        self.limit = limit
    }
}
