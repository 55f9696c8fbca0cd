import Foundation
import TokendPolicy
import TokendStore

/// One library's or user's line of the status report.
public struct StatusEntry: Sendable, Equatable {
    public var key: GrantKey
    /// The status shown: the stored one, or `disabled` when the organisation is switched off or
    /// gone from the configuration, or `unauthorized` for a grant asked for by name that does not exist.
    public var status: GrantStatus
    public var authorizedBy: AuthorizedIdentity?
    public var accessExpiresAt: Date?
    public var nextRefreshAt: Date?
    public var refreshTokenExpiresAt: Date?
    public var lastRefreshAt: Date?
    public var lastError: String?
    public var attention: Attention
    /// Why it asks for attention, in words a person acts on ("authorise again …"); empty when ok.
    public var reason: String?

    public init(
        key: GrantKey, status: GrantStatus, authorizedBy: AuthorizedIdentity? = nil, accessExpiresAt: Date? = nil,
        nextRefreshAt: Date? = nil, refreshTokenExpiresAt: Date? = nil, lastRefreshAt: Date? = nil,
        lastError: String? = nil, attention: Attention, reason: String? = nil
    ) {
        self.key = key
        self.status = status
        self.authorizedBy = authorizedBy
        self.accessExpiresAt = accessExpiresAt
        self.nextRefreshAt = nextRefreshAt
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.lastRefreshAt = lastRefreshAt
        self.lastError = lastError
        self.attention = attention
        self.reason = reason
    }
}

/// One organisation's line: whether it is on, and how many grants it has.
public struct OrganisationSummary: Sendable, Equatable {
    public var name: String
    /// `false` when switched off, or no longer in the configuration.
    public var enabled: Bool
    public var configured: Bool
    public var libraries: Int
    public var users: Int
    public var attention: Attention
    /// The iManage customer the organisation is: configured (`customer_id`) or pinned by its first
    /// authorisation; `nil` while neither.
    public var customerID: String? = nil
    /// Whether `customerID` was pinned (rather than configured).
    public var customerPinned = false
}

/// An organisation's iManage customer, as `status` shows it.
public struct OrganisationCustomer: Sendable, Equatable {
    public var id: String
    /// Pinned by the first authorisation (rather than configured as `customer_id`).
    public var pinned: Bool

    public init(id: String, pinned: Bool) {
        self.id = id
        self.pinned = pinned
    }
}
