import Foundation
import TokendPolicy
import TokendReports
import TokendStore

// The JSON bodies of the token API. Every key is always present; unknown values are `null`;
// times are RFC 3339 UTC.

/// `200` to a token request: a currently valid access token.
///
/// `{"organisation", "kind", "id", "status", "access_token", "expires_at", "expires_in",
///   "authorized_by": {"id", "email", "name"}}`: `expires_in` is whole seconds left; send the
/// token to iManage in the `X-Auth-Token` header.
struct TokenAnswer: Encodable {
    var key: GrantKey
    var status: GrantStatus
    var accessToken: String
    var expiresAt: Date
    var now: Date
    var authorizedBy: AuthorizedIdentity?

    enum CodingKeys: String, CodingKey {
        case organisation, kind, id, status, accessToken = "access_token", expiresAt = "expires_at"
        case expiresIn = "expires_in", authorizedBy = "authorized_by"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key.organisation, forKey: .organisation)
        try container.encode(key.kind.rawValue, forKey: .kind)
        try container.encode(key.subject, forKey: .id)
        try container.encode(status.rawValue, forKey: .status)
        try container.encode(accessToken, forKey: .accessToken)
        try container.encode(RFC3339.string(expiresAt), forKey: .expiresAt)
        try container.encode(Int(expiresAt.timeIntervalSince(now)), forKey: .expiresIn)
        try container.encode(authorizedBy.map(IdentityJSON.init), forKey: .authorizedBy)
    }
}

/// `503` to a token request whose grant has no valid access token now, with why:
/// `{"organisation", "kind", "id", "status", "reason", "access_expires_at", "next_refresh_at", "last_error"}`.
struct NotValidAnswer: Encodable {
    var key: GrantKey
    var status: GrantStatus
    var reason: String
    var accessExpiresAt: Date?
    var nextRefreshAt: Date?
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case organisation, kind, id, status, reason, accessExpiresAt = "access_expires_at"
        case nextRefreshAt = "next_refresh_at", lastError = "last_error"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key.organisation, forKey: .organisation)
        try container.encode(key.kind.rawValue, forKey: .kind)
        try container.encode(key.subject, forKey: .id)
        try container.encode(status.rawValue, forKey: .status)
        try container.encode(reason, forKey: .reason)
        try container.encode(RFC3339.string(accessExpiresAt), forKey: .accessExpiresAt)
        try container.encode(RFC3339.string(nextRefreshAt), forKey: .nextRefreshAt)
        try container.encode(lastError, forKey: .lastError)
    }
}

/// One grant's line in the answer to `POST /v1/refresh`:
/// `{"organisation", "kind", "id", "outcome", "refresh_at", "status", "reason", "access_expires_at", "last_error"}`.
///
/// `outcome`: `refreshed` (done, and authorised), `failed` (tried; see `status` and `last_error`),
/// `scheduled` (will be tried at `refresh_at`; the answer did not wait, or the minimum interval
/// defers it), `refused` (it waits for a person; see `reason`) or `not_found`.
struct RefreshResult: Encodable, Sendable {
    var key: GrantKey
    var outcome: String
    var refreshAt: Date?
    var status: GrantStatus?
    var reason: String?
    var accessExpiresAt: Date?
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case organisation, kind, id, outcome, refreshAt = "refresh_at", status, reason
        case accessExpiresAt = "access_expires_at", lastError = "last_error"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key.organisation, forKey: .organisation)
        try container.encode(key.kind.rawValue, forKey: .kind)
        try container.encode(key.subject, forKey: .id)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(RFC3339.string(refreshAt), forKey: .refreshAt)
        try container.encode(status?.rawValue, forKey: .status)
        try container.encode(reason, forKey: .reason)
        try container.encode(RFC3339.string(accessExpiresAt), forKey: .accessExpiresAt)
        try container.encode(lastError, forKey: .lastError)
    }
}

struct RefreshAnswer: Encodable {
    var results: [RefreshResult]
}

/// An error: `{"error": "not_found" | "bad_request" | …, "reason": "…"}`.
struct ErrorAnswer: Encodable {
    var error: String
    var reason: String
}

/// The answer to a revoke or a schedule request: `{"organisation", "kind", "id", "status", "previous_status", "refresh_at"}`.
struct GrantChangeAnswer: Encodable {
    var key: GrantKey
    var status: GrantStatus?
    var previousStatus: GrantStatus?
    var refreshAt: Date?

    enum CodingKeys: String, CodingKey {
        case organisation, kind, id, status, previousStatus = "previous_status", refreshAt = "refresh_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key.organisation, forKey: .organisation)
        try container.encode(key.kind.rawValue, forKey: .kind)
        try container.encode(key.subject, forKey: .id)
        try container.encode(status?.rawValue, forKey: .status)
        try container.encode(previousStatus?.rawValue, forKey: .previousStatus)
        try container.encode(RFC3339.string(refreshAt), forKey: .refreshAt)
    }
}

private struct IdentityJSON: Encodable {
    var id: String
    var email: String
    var name: String

    init(_ identity: AuthorizedIdentity) {
        id = identity.userID
        email = identity.email
        name = identity.name
    }
}

/// What a refresh request names: one grant (`organisation` with `library` or `user`) or several (`grants`).
struct RefreshRequestBody: Decodable {
    struct Grant: Decodable {
        var organisation: String
        var library: String?
        var user: String?
    }

    var organisation: String?
    var library: String?
    var user: String?
    var grants: [Grant]?
    /// Seconds to wait for the outcome (0 to 60; default 0: answer once scheduled).
    var wait: Double?
}

/// `POST /v1/schedule`'s answer: the grants scheduled, and those named that were not found.
struct ScheduleManyAnswer: Encodable {
    var scheduled: [GrantChangeAnswer]
    var notFound: [String]

    enum CodingKeys: String, CodingKey { case scheduled, notFound = "not_found" }
}
