import Foundation

/// The decision on every answer of the token endpoint: the rows of the README's "what iManage
/// answers" table, as one function.
extension GrantLifecycle {
    /// The update an answer of the token endpoint to the refresh of `claim` leads to at `now`:
    ///
    /// - tokens: `authorized`, next refresh at half-life; a rotated refresh token is kept with its
    ///   lifetime; inside the warning window before the refresh token's expiry, a warning event at the
    ///   first refresh after an authorisation, then once a day;
    /// - a passing failure: `retrying` while the access token is valid, then `expired`; backoff with
    ///   `Retry-After` honoured, and a look when the access token runs out so `expired` shows on time;
    /// - the refresh token refused: `needs_reauth`, naming a restored backup or an interrupted refresh
    ///   (a rotation probably lost) when that is the likely cause;
    /// - the client refused: `client_error`, tried again on the backoff (the engine parks the
    ///   organisation's other grants behind one probe).
    ///
    /// The NRTADMIN check of a library, which needs the new access token, comes after
    /// (``nrtadminChecked(_:of:into:at:)``).
    public func update(
        after answer: Result<TokenResponse, RefreshFailure>, for claim: ClaimedRefresh, at now: Date, unitRandom: Double
    ) -> GrantUpdate {
        switch answer {
        case .success(let tokens): refreshed(with: tokens, for: claim, at: now, unitRandom: unitRandom)
        case .failure(let failure): failed(with: failure, for: claim, at: now, unitRandom: unitRandom)
        }
    }

    private func refreshed(with tokens: TokenResponse, for claim: ClaimedRefresh, at now: Date, unitRandom: Double) -> GrantUpdate {
        let record = claim.record
        let interrupted = claim.abandonedClaim != nil
        let access = IssuedToken(token: tokens.accessToken, issuedAt: now, expiresAt: now.addingTimeInterval(tokens.expiresIn))
        var update = GrantUpdate(
            status: .authorized,
            message: interrupted
                ? "refreshed after an interrupted refresh whose outcome was uncertain"
                : (record.status == .authorized ? "refreshed" : "refreshed again after \(record.status.rawValue)"),
            nextRefreshAt: policy.nextRefresh(issuedAt: now, expiresAt: access.expiresAt, unitRandom: unitRandom))
        update.alwaysRecordEvent = interrupted
        update.succeeded = true
        update.newAccessToken = access
        update.newRefreshToken = tokens.refreshToken.map {
            IssuedToken(token: $0, issuedAt: now, expiresAt: policy.refreshTokenExpiry(issuedAt: now))
        }
        // Inside the warning window before the refresh token's expiry: say so at the first refresh
        // after an authorisation, then once a day, as an event and a warning. Days are counted from
        // when the stored refresh token was issued, not from a UTC midnight, so a grant authorised
        // at 23:59 is not warned about again at 00:01.
        let refreshExpiry = update.newRefreshToken?.expiresAt ?? record.refreshTokenExpiresAt
        let firstSinceAuthorization = record.lastAttemptAt == nil
        let dayOrigin = record.refreshTokenIssuedAt ?? Date(timeIntervalSince1970: 0)
        let day = { (moment: Date) in (moment.timeIntervalSince(dayOrigin) / 86_400).rounded(.down) }
        let newDay = day(now) != day(record.lastRefreshAt ?? .distantPast)
        if let refreshExpiry, policy.refreshTokenNeedsAttention(expiresAt: refreshExpiry, now: now),
           firstSinceAuthorization || newDay {
            update.alwaysRecordEvent = true
            update.refreshTokenWarning = true
            update.message = GrantAdvice.refreshTokenExpiring(at: refreshExpiry)
        }
        return update
    }

    private func failed(with failure: RefreshFailure, for claim: ClaimedRefresh, at now: Date, unitRandom: Double) -> GrantUpdate {
        let record = claim.record
        let interrupted = claim.abandonedClaim != nil
        switch failure.failureClass {
        case .transient:
            let delay = policy.retryDelay(
                afterFailures: record.consecutiveFailures + 1, retryAfter: failure.retryAfter, unitRandom: unitRandom)
            var next = now.addingTimeInterval(delay)
            // Look again when the access token runs out, if that comes first, so the status turns `expired` on time.
            if let expiry = record.accessExpiresAt, expiry > now, expiry < next {
                next = max(expiry, now.addingTimeInterval(settings.minimumInterval))
            }
            let status = policy.passingFailureStatus(accessExpiresAt: record.accessExpiresAt, now: now)
            var update = GrantUpdate(status: status, message: "refresh failed, retrying: \(failure.description)", nextRefreshAt: next)
            update.failure = failure
            return update
        case .grantDead:
            // A restored backup is named first: its spent token explains an interrupted refresh too.
            let restored = claim.restoredBackupTakenAt.map { "restored from a backup taken at \($0.formatted(.iso8601))" }
            let message = if let restored {
                "\(restored); the refresh token had probably been rotated since: authorise again"
            } else if interrupted {
                "the refresh token was refused after an interrupted refresh: a rotation was probably lost "
                    + "(iManage replaced the refresh token but the new one was never saved); authorise again"
            } else {
                "the refresh token was refused: authorise again"
            }
            var update = GrantUpdate(status: .needsReauth, message: message, nextRefreshAt: nil)
            let detail = if let restored { "\(restored), rotation probably lost since: \(failure.detail)" }
                else if interrupted { "rotation probably lost: \(failure.detail)" } else { failure.detail }
            update.failure = RefreshFailure(
                failure.failureClass, httpStatus: failure.httpStatus, oauthError: failure.oauthError,
                detail: detail, responseExcerpt: failure.responseExcerpt)
            return update
        case .clientRefused:
            let delay = policy.retryDelay(
                afterFailures: record.consecutiveFailures + 1, retryAfter: failure.retryAfter, unitRandom: unitRandom)
            var update = GrantUpdate(
                status: .clientError, message: GrantAdvice.clientRefused,
                nextRefreshAt: now.addingTimeInterval(delay))
            update.failure = failure
            return update
        }
    }

    /// The refresh-token warning of a written update, to log as a warning line: only on a plain
    /// refresh that kept the grant `authorized` (an interrupted one logs its own line).
    public func refreshTokenWarning(of update: GrantUpdate, interrupted: Bool) -> String? {
        update.refreshTokenWarning && update.status == .authorized && !interrupted ? update.message : nil
    }
}
