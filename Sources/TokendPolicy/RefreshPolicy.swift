import Foundation

/// When to refresh, when to retry, and what a grant's clock says about its status.
///
/// Pure functions of their arguments: randomness comes in as `unitRandom` values in 0..<1,
/// so the rules can be tested exactly. Callers draw them with `Double.random(in: 0..<1)`.
public struct RefreshPolicy: Sendable {
    public let settings: RefreshSettings

    public init(settings: RefreshSettings = RefreshSettings()) {
        self.settings = settings
    }

    /// The moment to refresh an access token issued at `issuedAt` that expires at `expiresAt`:
    /// at `refreshAtFraction` of its life, moved by up to ±`jitterFraction`, never sooner than
    /// `minimumInterval` after issue.
    public func nextRefresh(issuedAt: Date, expiresAt: Date, unitRandom: Double) -> Date {
        let life = max(0, expiresAt.timeIntervalSince(issuedAt))
        let planned = life * settings.refreshAtFraction
        let spread = planned * settings.jitterFraction * (2 * clampUnit(unitRandom) - 1)
        return issuedAt.addingTimeInterval(max(settings.minimumInterval, planned + spread))
    }

    /// The delay before retrying after the `failures`-th consecutive passing failure (1 for the first).
    ///
    /// Exponential backoff with full jitter between `backoffInitial` and a ceiling that doubles
    /// from `backoffInitial` up to `backoffMaximum`; a server's `Retry-After` is honoured
    /// (up to `retryAfterMaximum`) when it asks for longer.
    public func retryDelay(afterFailures failures: Int, retryAfter: TimeInterval?, unitRandom: Double) -> TimeInterval {
        let exponent = Double(min(max(failures, 1) - 1, 30))
        let ceiling = min(settings.backoffMaximum, settings.backoffInitial * pow(2, exponent))
        let floor = min(settings.backoffInitial, ceiling)
        var delay = floor + (ceiling - floor) * clampUnit(unitRandom)
        if let retryAfter, retryAfter > delay {
            delay = min(retryAfter, max(settings.retryAfterMaximum, delay))
        }
        return max(delay, settings.minimumInterval)
    }

    /// The earliest moment a grant last attempted at `lastAttempt` may be attempted again.
    public func earliestAttempt(after lastAttempt: Date?) -> Date {
        guard let lastAttempt else { return .distantPast }
        return lastAttempt.addingTimeInterval(settings.minimumInterval)
    }

    /// When a refresh token issued at `issuedAt` stops working, by the configured lifetime.
    public func refreshTokenExpiry(issuedAt: Date) -> Date {
        issuedAt.addingTimeInterval(settings.refreshTokenLifetime)
    }

    /// Whether a refresh token expiring at `expiresAt` is inside the warning window at `now`.
    public func refreshTokenNeedsAttention(expiresAt: Date?, now: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= settings.refreshTokenWarning
    }

    /// Start-up deadlines for `count` overdue grants, most urgent first: spread at
    /// `startupRefreshesPerSecond`, so a thousand overdue grants do not hit iManage in one second.
    public func startupDeadline(forOverdueIndex index: Int, now: Date) -> Date {
        let rate = max(settings.startupRefreshesPerSecond, 0.001)
        return now.addingTimeInterval(Double(index) / rate)
    }

    /// The status a grant that keeps failing passingly should show at `now`:
    /// `retrying` while its access token is valid, then `expired`.
    public func passingFailureStatus(accessExpiresAt: Date?, now: Date) -> GrantStatus {
        guard let accessExpiresAt, accessExpiresAt > now else { return .expired }
        return .retrying
    }

    private func clampUnit(_ value: Double) -> Double {
        value.isFinite ? min(max(value, 0), 1) : 0.5
    }
}
