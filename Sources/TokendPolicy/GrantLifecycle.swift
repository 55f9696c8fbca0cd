import Foundation

/// The life of a grant as rules: when it is refreshed, what each answer of iManage leads to, what
/// status every surface shows, how long a claim holds, and in which order overdue grants go at start-up.
///
/// Pure: no store, no network, no clock of its own. "When do we refresh, and what happens on each
/// answer" is answered by this type and its extensions (`+Answers`, `+Status`, `+Nrtadmin`) alone.
/// Randomness comes in as `unitRandom` values in 0..<1, so every rule can be tested exactly.
public struct GrantLifecycle: Sendable {
    public let policy: RefreshPolicy
    public var settings: RefreshSettings { policy.settings }

    public init(policy: RefreshPolicy) {
        self.policy = policy
    }

    public init(settings: RefreshSettings = RefreshSettings()) {
        self.init(policy: RefreshPolicy(settings: settings))
    }

    /// The longest one request to iManage may take: connecting, then waiting for the answer.
    public var longestRequest: TimeInterval { settings.connectTimeout + settings.requestTimeout }

    /// How long a claim on a grant's refresh is honoured before it is presumed abandoned (its
    /// process stopped mid-refresh): longer than any request, with room for writing the outcome.
    public var claimLease: TimeInterval { longestRequest + 30 }

    /// When a grant whose access token was issued now is refreshed first (a new authorisation,
    /// an import): by the same rule as every later refresh.
    public func firstRefresh(of access: IssuedToken, unitRandom: Double) -> Date {
        policy.nextRefresh(issuedAt: access.issuedAt, expiresAt: access.expiresAt, unitRandom: unitRandom)
    }

    /// The grant to store for tokens just issued to `identity` (the web callback, `import`): the
    /// refresh token (the answer's, else the one presented) with its lifetime, the access token, the
    /// first refresh, and for a library the NRTADMIN check it has just passed.
    /// `nil` when there is no refresh token at all.
    public func newAuthorization(
        key: GrantKey, identity: AuthorizedIdentity, tokens: TokenResponse, presentedRefreshToken: String?,
        message: String, configuredCustomerID: String?, now: Date, unitRandom: Double
    ) -> NewAuthorization? {
        guard let refreshToken = tokens.refreshToken ?? presentedRefreshToken, !refreshToken.isEmpty else { return nil }
        let access = IssuedToken(token: tokens.accessToken, issuedAt: now, expiresAt: now.addingTimeInterval(tokens.expiresIn))
        return NewAuthorization(
            key: key, identity: identity,
            refreshToken: IssuedToken(token: refreshToken, issuedAt: now, expiresAt: policy.refreshTokenExpiry(issuedAt: now)),
            accessToken: access,
            nextRefreshAt: firstRefresh(of: access, unitRandom: unitRandom),
            nrtadminCheckedAt: key.kind == .library ? now : nil,
            message: message, configuredCustomerID: configuredCustomerID)
    }

    /// The order overdue grants are refreshed in at start-up: interrupted refreshes first (with
    /// refresh-token rotation and a grace period, the old token works only for a while after iManage
    /// replaced it), then the soonest-expiring access tokens (none at all counts as expired).
    public static func startupOrder(_ overdue: [ScheduleEntry]) -> [ScheduleEntry] {
        overdue.sorted {
            $0.refreshWasInFlight != $1.refreshWasInFlight
                ? $0.refreshWasInFlight
                : ($0.accessExpiresAt ?? .distantPast) < ($1.accessExpiresAt ?? .distantPast)
        }
    }
}
