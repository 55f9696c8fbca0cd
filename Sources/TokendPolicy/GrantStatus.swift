/// The authorisation status of one grant (a library's or a user's), as named in the contract.
public enum GrantStatus: String, Sendable, CaseIterable, Codable {
    /// The grant is refreshing normally.
    case authorized
    /// A refresh failed for a passing reason; the access token is still valid.
    case retrying
    /// The access token ran out while retrying.
    case expired
    /// The refresh token was refused: a person must authorise again.
    case needsReauth = "needs_reauth"
    /// The organisation's client id or secret was refused.
    case clientError = "client_error"
    /// The authoriser is no longer NRTADMIN of the library.
    case notNrtadmin = "not_nrtadmin"
    /// Never authorised, or revoked.
    case unauthorized
    /// The organisation is switched off in the configuration.
    case disabled

    /// How much attention the status asks for, in the Nagios sense used by `status`'s exit code.
    public var severity: Severity {
        switch self {
        case .authorized, .disabled: .ok
        case .retrying: .warning
        case .expired, .needsReauth, .clientError, .notNrtadmin, .unauthorized: .critical
        }
    }

    /// Whether the daemon keeps a timer for a grant in this status.
    /// `needs_reauth`, `not_nrtadmin`, `unauthorized` and `disabled` wait for a person.
    public var isScheduled: Bool {
        switch self {
        case .authorized, .retrying, .expired, .clientError: true
        case .needsReauth, .notNrtadmin, .unauthorized, .disabled: false
        }
    }
}

/// Nagios-style severity: `status` exits with its raw value.
public enum Severity: Int, Sendable, Comparable, Codable {
    case ok = 0
    case warning = 1
    case critical = 2
    case unknown = 3

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
}
