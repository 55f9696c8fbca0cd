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
    /// How long before a refresh token's expiry it is a warning.
    public var refreshTokenWarning: TimeInterval
    /// How long a refresh may be in flight before its outcome counts as uncertain.
    public var claimLease: TimeInterval
    /// How often a library's authoriser is checked to still be NRTADMIN (`nrtadmin_check_hours`).
    public var nrtadminCheckInterval: TimeInterval

    public init(refreshTokenWarning: TimeInterval = 30 * 86_400, claimLease: TimeInterval = 70, nrtadminCheckInterval: TimeInterval = 86_400) {
        self.refreshTokenWarning = refreshTokenWarning
        self.claimLease = claimLease
        self.nrtadminCheckInterval = nrtadminCheckInterval
    }

    public init(settings: RefreshSettings) {
        self.init(
            refreshTokenWarning: settings.refreshTokenWarning,
            claimLease: settings.requestTimeout + settings.connectTimeout + 30,
            nrtadminCheckInterval: settings.nrtadminCheckInterval)
    }

    public func entry(for record: GrantRecord, organisationEnabled: Bool, daemon: DaemonState, now: Date) -> StatusEntry {
        var entry = StatusEntry(
            key: record.key, status: organisationEnabled ? effectiveStatus(of: record, now: now) : .disabled,
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
            ? StatusEntry(key: key, status: .unauthorized, attention: .critical, reason: Self.advice(.unauthorized, key))
            : StatusEntry(key: key, status: .disabled, attention: .ok)
    }

    /// The status every surface shows (and the token API serves by): the stored one, except that
    ///
    /// - a library whose authoriser's NRTADMIN membership has not been confirmed for twice
    ///   `nrtadmin_check_hours` is `not_nrtadmin` (the check fails closed: its token is not handed
    ///   out, while the daemon keeps refreshing and checking, and a check that succeeds lifts it);
    /// - an `authorized` or `retrying` grant whose access token has run out is `expired`: the daemon
    ///   could not refresh it and could not record why (found by the fault matrix: with the disk
    ///   full, `status` went on saying `authorized` for tokens long expired).
    public func effectiveStatus(of record: GrantRecord, now: Date) -> GrantStatus {
        guard record.status == .authorized || record.status == .retrying else { return record.status }
        if unconfirmedMembershipSince(record, now: now) != nil { return .notNrtadmin }
        guard let expiry = record.accessExpiresAt, expiry <= now else { return record.status }
        return .expired
    }

    /// When a library's membership was last confirmed, if that is longer ago than twice the check interval.
    func unconfirmedMembershipSince(_ record: GrantRecord, now: Date) -> Date? {
        guard record.key.kind == .library else { return nil }
        let confirmed = record.nrtadminCheckedAt ?? record.createdAt
        return now.timeIntervalSince(confirmed) > 2 * nrtadminCheckInterval ? confirmed : nil
    }

    /// Why the grant has `status` (from ``effectiveStatus(of:now:)``) and what to do, for the token
    /// API's refusals and the pages.
    public func reason(for record: GrantRecord, status: GrantStatus, now: Date) -> String {
        attention(of: record, status: status, daemon: DaemonState(running: true, pid: nil), now: now).1 ?? ""
    }

    func attention(of record: GrantRecord, status: GrantStatus, daemon: DaemonState, now: Date) -> (Attention, String?) {
        if status == .disabled { return (.ok, nil) }
        if status == .notNrtadmin, record.status != .notNrtadmin, let since = unconfirmedMembershipSince(record, now: now) {
            let who = record.authorizedBy.map { "\($0.name) (\($0.userID))" } ?? "the authoriser"
            return (.critical, "the NRTADMIN membership of \(who) in library \(record.key.subject) could not be confirmed since "
                + "\(RFC3339.string(since)) (checked every \(Int(nrtadminCheckInterval / 3_600)) h): its token is not handed out "
                + "until a check succeeds; see journalctl -u imanage-tokend TOKEND_LIBRARY=\(record.key.subject)")
        }
        if status == .expired, record.status != .expired, let expiry = record.accessExpiresAt {
            return (.critical, "the access token ran out \(RelativeTime.describe(expiry, now: now)) and no refresh has been "
                + "recorded since: is the daemon running, and can it write its database? (journalctl -u imanage-tokend)")
        }
        if status.severity == .critical { return (.critical, Self.advice(status, record.key)) }
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

    /// What a person should do about a status that needs one.
    public static func advice(_ status: GrantStatus, _ key: GrantKey) -> String {
        let who = key.kind == .library ? "an NRTADMIN of library \(key.subject)" : "user \(key.subject)"
        return switch status {
        case .needsReauth: "the refresh token was refused: \(who) must authorise again"
        case .clientError: "iManage refused organisation \(key.organisation)'s client id or secret: check client_id and client_secret_file"
        case .notNrtadmin: "the authoriser is no longer an NRTADMIN of library \(key.subject): an NRTADMIN of it must authorise it"
        case .expired: "the access token ran out while refreshing kept failing: check that iManage is reachable"
        case .unauthorized: "never authorised, or revoked: \(who) must authorise"
        case .authorized, .retrying, .disabled: ""
        }
    }
}
