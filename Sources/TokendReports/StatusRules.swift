import Foundation
import TokendPolicy
import TokendStore

/// The rules that turn a stored grant into a line of the status report and its attention level.
///
/// - `critical` (a person must act): `needs_reauth`, `client_error`, `not_nrtadmin`, `expired`,
///   `unauthorized`, or a refresh token already past its expiry.
/// - `warning`: `retrying`; a refresh token expiring within `refresh_token_warning_days`; a refresh
///   interrupted by a stopped process (its outcome is uncertain until the daemon tries again).
/// - `ok`: `authorized`, and every grant of an organisation that is switched off (`disabled`).
public struct StatusRules: Sendable {
    /// The rules of a grant's life; the effective status and the claim lease are theirs.
    public var lifecycle: GrantLifecycle
    /// How long before a refresh token's expiry it is a warning.
    public var refreshTokenWarning: TimeInterval { lifecycle.settings.refreshTokenWarning }
    /// How long a refresh may be in flight before its outcome counts as uncertain.
    public var claimLease: TimeInterval { lifecycle.claimLease }
    /// How often a library's authoriser is checked to still be NRTADMIN (`nrtadmin_check_hours`).
    public var nrtadminCheckInterval: TimeInterval { lifecycle.settings.nrtadminCheckInterval }

    public init(settings: RefreshSettings) {
        lifecycle = GrantLifecycle(settings: settings)
    }

    /// The default settings, but for the two that reports alone read.
    public init(refreshTokenWarning: TimeInterval = 30 * 86_400, nrtadminCheckInterval: TimeInterval = 86_400) {
        var settings = RefreshSettings()
        settings.refreshTokenWarning = refreshTokenWarning
        settings.nrtadminCheckInterval = nrtadminCheckInterval
        self.init(settings: settings)
    }

    public func entry(for record: GrantRecord, organisationEnabled: Bool, daemon: DaemonState, now: Date) -> StatusEntry {
        var entry = StatusEntry(
            key: record.key, status: effectiveStatus(of: record, organisationEnabled: organisationEnabled, now: now),
            authorizedBy: record.authorizedBy, accessExpiresAt: record.accessExpiresAt,
            nextRefreshAt: record.status.isScheduled && organisationEnabled ? record.nextRefreshAt : nil,
            refreshTokenExpiresAt: record.refreshTokenExpiresAt, lastRefreshAt: record.lastRefreshAt,
            lastError: record.lastError, attention: .ok)
        (entry.attention, entry.reason) = attention(of: record, status: entry.status, daemon: daemon, now: now)
        return entry
    }

    /// The line for a library or user asked for by name that has no grant: never authorised, or revoked.
    public func missingEntry(for key: GrantKey, organisationEnabled: Bool) -> StatusEntry {
        organisationEnabled
            ? StatusEntry(key: key, status: .unauthorized, attention: .critical, reason: GrantAdvice.whatToDo(.unauthorized, key))
            : StatusEntry(key: key, status: .disabled, attention: .ok)
    }

    /// The status every surface shows (and the token API serves by): `GrantLifecycle`'s rule.
    public func effectiveStatus(of record: GrantRecord, organisationEnabled: Bool = true, now: Date) -> GrantStatus {
        lifecycle.effectiveStatus(of: record, organisationEnabled: organisationEnabled, now: now)
    }

    /// Why the grant has `status` (from ``effectiveStatus(of:now:)``) and what to do, for the token
    /// API's refusals and the pages.
    public func reason(for record: GrantRecord, status: GrantStatus, now: Date) -> String {
        attention(of: record, status: status, daemon: DaemonState(running: true, pid: nil), now: now).1 ?? ""
    }

    func attention(of record: GrantRecord, status: GrantStatus, daemon: DaemonState, now: Date) -> (Attention, String?) {
        if status == .disabled { return (.ok, nil) }
        if status == .notNrtadmin, record.status != .notNrtadmin, let since = lifecycle.unconfirmedMembershipSince(record, now: now) {
            let who = record.authorizedBy.map { "\($0.name) (\($0.userID))" } ?? "the authoriser"
            return (.critical, "the NRTADMIN membership of \(who) in library \(record.key.subject) could not be confirmed since "
                + "\(RFC3339.string(since)) (checked every \(Int(nrtadminCheckInterval / 3_600)) h): its token is not handed out "
                + "until a check succeeds; see journalctl -u imanage-tokend TOKEND_LIBRARY=\(record.key.subject)")
        }
        if status == .expired, record.status != .expired, let expiry = record.accessExpiresAt {
            return (.critical, "the access token ran out \(RelativeTime.describe(expiry, now: now)) and no refresh has been "
                + "recorded since: is the daemon running, and can it write its database? (journalctl -u imanage-tokend)")
        }
        if status.severity == .critical { return (.critical, GrantAdvice.whatToDo(status, record.key)) }
        if let expiry = record.refreshTokenExpiresAt {
            let left = expiry.timeIntervalSince(now)
            if left <= 0 {
                return (.critical, "the refresh token expired \(RelativeTime.describe(expiry, now: now)): authorise again")
            }
            if left <= refreshTokenWarning {
                return (.warning, "the refresh token expires \(RelativeTime.describe(expiry, now: now)): authorise again before then")
            }
        }
        if let since = record.inFlightSince, !daemon.running || now.timeIntervalSince(since) > claimLease {
            return (.warning, "a refresh was interrupted \(RelativeTime.describe(since, now: now)); its outcome is uncertain until the daemon refreshes again")
        }
        if status == .retrying {
            return (.warning, "refreshing failed for a passing reason; retrying while the access token is still valid")
        }
        return (.ok, nil)
    }
}
