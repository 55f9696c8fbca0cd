import Foundation

/// The effective status: the one every surface shows (`status`, `/v1/status`, the token API, the
/// Tracker page, `/me`, the metrics) and the token API serves by.
extension GrantLifecycle {
    /// The status of `record` at `now`: the stored one, except that
    ///
    /// - every grant of an organisation that is switched off (or gone from the configuration) is `disabled`;
    /// - a library whose authoriser's NRTADMIN membership has not been confirmed for twice
    ///   `nrtadmin_check_hours` is `not_nrtadmin` (the check fails closed: its token is not handed
    ///   out, while the daemon keeps refreshing and checking, and a check that succeeds lifts it);
    /// - an `authorized` or `retrying` grant whose access token has run out is `expired`: the daemon
    ///   could not refresh it and could not record why (found by the fault matrix: with the disk
    ///   full, `status` went on saying `authorized` for tokens long expired).
    public func effectiveStatus(of record: GrantRecord, organisationEnabled: Bool = true, now: Date) -> GrantStatus {
        guard organisationEnabled else { return .disabled }
        guard record.status == .authorized || record.status == .retrying else { return record.status }
        if unconfirmedMembershipSince(record, now: now) != nil { return .notNrtadmin }
        guard let expiry = record.accessExpiresAt, expiry <= now else { return record.status }
        return .expired
    }

    /// When a library's membership was last confirmed, if that is longer ago than twice the check interval.
    public func unconfirmedMembershipSince(_ record: GrantRecord, now: Date) -> Date? {
        guard record.key.kind == .library else { return nil }
        let confirmed = record.nrtadminCheckedAt ?? record.createdAt
        return now.timeIntervalSince(confirmed) > 2 * settings.nrtadminCheckInterval ? confirmed : nil
    }
}
