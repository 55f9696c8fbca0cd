import Foundation

/// The tunable parts of the refresh policy: the `[refresh]` table of the configuration.
public struct RefreshSettings: Sendable, Equatable {
    /// Fraction of an access token's life after which it is refreshed (0.5: at half-life).
    public var refreshAtFraction: Double = 0.5
    /// Random spread around that moment, as a fraction of it (0.1: ±10%).
    public var jitterFraction: Double = 0.1
    /// Never refresh one grant more often than this.
    public var minimumInterval: TimeInterval = 5
    /// First retry delay after a passing failure; it doubles up to `backoffMaximum`.
    public var backoffInitial: TimeInterval = 30
    public var backoffMaximum: TimeInterval = 300
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    public var retryAfterMaximum: TimeInterval = 3600
    /// Lifetime of a refresh token from when iManage issued it (Control Center default: 365 days).
    public var refreshTokenLifetime: TimeInterval = 365 * 86_400
    /// Warn this long before a refresh token expires.
    public var refreshTokenWarning: TimeInterval = 30 * 86_400
    /// Assumed lifetime of an access token whose answer has no `expires_in`.
    public var defaultAccessTokenLifetime: TimeInterval = 1800
    /// Timeouts of one request to iManage.
    public var connectTimeout: TimeInterval = 10
    public var requestTimeout: TimeInterval = 30
    /// How often a library authoriser's NRTADMIN membership is checked again.
    public var nrtadminCheckInterval: TimeInterval = 86_400
    /// Overdue grants found at start-up are refreshed at most this many per second.
    public var startupRefreshesPerSecond: Double = 20
    /// Refreshes in flight at once, across all grants. Most of a refresh's time is the wait for
    /// its two durable commits, so many in flight share each commit: at 32 the engine managed
    /// about 860 a second here, at 256 about 5,000 (docs/performance.md). Requests to one host
    /// stay bounded by the connections per host (the same number, at least 8) and the start-up and recovery rates.
    public var maxConcurrentRefreshes: Int = 256
    /// A token endpoint is down when passing failures come from this many distinct grants ...
    public var outageGrants: Int = 3
    /// ... within this long, with no answer between them (`EndpointOutageBook`).
    public var outageWindow: TimeInterval = 60
    /// While an endpoint is down and access tokens have run out, its one probe goes out at least this
    /// often: one request per endpoint (not per grant), so the outage ends for users soon after it
    /// ends for iManage.
    public var outageProbeMaximum: TimeInterval = 2
    /// When a down endpoint answers again, its waiting grants are refreshed at most this many per second
    /// (twice the ordinary load of a million grants with 30-minute tokens; 10,000 grants in 5 s).
    public var recoveryRefreshesPerSecond: Double = 2000

    public init() {}
}
