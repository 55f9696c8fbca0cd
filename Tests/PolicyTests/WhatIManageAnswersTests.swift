import Foundation
import Testing
import TokendPolicy

/// Every row of the README's "what iManage answers" table, by the lifecycle rules alone: no
/// database, no server, no clock but `LifecycleFixtures.now`.
@Suite("What iManage answers, and what the grant's life does")
struct WhatIManageAnswersTests {
    let lifecycle = GrantLifecycle()
    let now = LifecycleFixtures.now
    typealias Fixture = LifecycleFixtures

    @Test("row 'tokens': authorized, next refresh at half-life, a rotated refresh token kept with its lifetime")
    func tokens() {
        let update = lifecycle.update(after: .success(Fixture.tokens(expiresIn: 1800)), for: Fixture.claim(), at: now, unitRandom: 0.5)
        #expect(update.status == .authorized)
        #expect(update.succeeded && update.failure == nil)
        #expect(update.nextRefreshAt == now.addingTimeInterval(900))
        #expect(update.newAccessToken?.expiresAt == now.addingTimeInterval(1800))
        #expect(update.newRefreshToken?.token == "rt-new")
        #expect(update.newRefreshToken?.expiresAt == now.addingTimeInterval(365 * 86_400))
        #expect(!update.alwaysRecordEvent && !update.refreshTokenWarning)
        // An answer without a refresh token never erases the stored one.
        let kept = lifecycle.update(after: .success(Fixture.tokens(rotated: false)), for: Fixture.claim(), at: now, unitRandom: 0.5)
        #expect(kept.newRefreshToken == nil)
        // After a failure, the event says what it recovered from.
        let healed = lifecycle.update(
            after: .success(Fixture.tokens()), for: Fixture.claim(Fixture.record(.retrying, failures: 2)), at: now, unitRandom: 0.5)
        #expect(healed.status == .authorized && healed.message == "refreshed again after retrying")
    }

    static let passing: [RefreshFailure] = [
        RefreshFailure(.transient, detail: "network error: connection refused"),
        RefreshFailure(.transient, detail: "timed out"),
        RefreshFailure(.transient, detail: "TLS handshake failed"),
        RefreshFailure(RefreshFailure.classify(httpStatus: 503, oauthError: nil), httpStatus: 503, detail: "unavailable"),
        RefreshFailure(RefreshFailure.classify(httpStatus: 429, oauthError: nil), httpStatus: 429, detail: "slow down"),
        RefreshFailure(RefreshFailure.classify(httpStatus: 200, oauthError: nil), httpStatus: 200, detail: "unreadable answer"),
    ]

    @Test("row 'network error, timeout, TLS, 5xx, 429, unreadable answer': retrying while the access token is valid; the token is kept",
          arguments: passing)
    func passingFailureRetries(failure: RefreshFailure) {
        #expect(failure.failureClass == .transient)
        let update = lifecycle.update(after: .failure(failure), for: Fixture.claim(Fixture.record(accessLeft: 900)), at: now, unitRandom: 0)
        #expect(update.status == .retrying)
        #expect(update.failure == failure && !update.succeeded)
        #expect(update.newAccessToken == nil && update.newRefreshToken == nil, "the valid access token must be kept")
        #expect(update.nextRefreshAt == now.addingTimeInterval(30), "first retry after 30 s")
    }

    @Test("row 'network error…': backoff from 30 s doubling to 5 min with jitter, Retry-After honoured, then expired when the access token runs out")
    func passingFailureBacksOffThenExpires() {
        let failure = RefreshFailure(.transient, httpStatus: 503, detail: "unavailable")
        let long = Fixture.record(.retrying, accessLeft: 3_600, failures: 1)
        #expect(lifecycle.update(after: .failure(failure), for: Fixture.claim(long), at: now, unitRandom: 1).nextRefreshAt
            == now.addingTimeInterval(60))
        let many = Fixture.record(.retrying, accessLeft: 3_600, failures: 20)
        #expect(lifecycle.update(after: .failure(failure), for: Fixture.claim(many), at: now, unitRandom: 1).nextRefreshAt
            == now.addingTimeInterval(300))
        var slowDown = failure
        slowDown.retryAfter = 1_200
        #expect(lifecycle.update(after: .failure(slowDown), for: Fixture.claim(long), at: now, unitRandom: 0).nextRefreshAt
            == now.addingTimeInterval(1_200))
        // The next look is when the access token runs out, if that comes before the backoff: `expired` shows on time.
        let soon = Fixture.record(.retrying, accessLeft: 12, failures: 3)
        #expect(lifecycle.update(after: .failure(failure), for: Fixture.claim(soon), at: now, unitRandom: 1).nextRefreshAt
            == now.addingTimeInterval(12))
        let ranOut = Fixture.record(.retrying, accessLeft: -1, failures: 4)
        #expect(lifecycle.update(after: .failure(failure), for: Fixture.claim(ranOut), at: now, unitRandom: 0).status == .expired)
    }

    @Test("row 'invalid_grant, 400/401': needs_reauth, stops until a person authorises again",
          arguments: [(400, "invalid_grant"), (400, nil), (401, nil), (500, "invalid_grant")] as [(Int, String?)])
    func refreshTokenRefused(status: Int, oauthError: String?) {
        let failure = RefreshFailure(
            RefreshFailure.classify(httpStatus: status, oauthError: oauthError), httpStatus: status, oauthError: oauthError,
            detail: "the refresh token was refused")
        #expect(failure.failureClass == .grantDead)
        let update = lifecycle.update(after: .failure(failure), for: Fixture.claim(), at: now, unitRandom: 0.5)
        #expect(update.status == .needsReauth)
        #expect(update.nextRefreshAt == nil, "a dead grant must not be retried")
        #expect(update.message == "the refresh token was refused: authorise again")
        #expect(!update.status.isScheduled)
    }

    @Test("row 'invalid_client, unauthorized_client': client_error, probed again on the backoff (the engine parks the rest)",
          arguments: ["invalid_client", "unauthorized_client"])
    func clientRefused(oauthError: String) {
        let failure = RefreshFailure(
            RefreshFailure.classify(httpStatus: 401, oauthError: oauthError), httpStatus: 401, oauthError: oauthError, detail: "refused")
        #expect(failure.failureClass == .clientRefused)
        let update = lifecycle.update(after: .failure(failure), for: Fixture.claim(), at: now, unitRandom: 0)
        #expect(update.status == .clientError)
        #expect(update.failure?.failureClass == .clientRefused, "the engine pauses the organisation on this class")
        #expect(update.nextRefreshAt == now.addingTimeInterval(30))
        #expect(update.message.contains("check client_id and client_secret_file"))
        #expect(update.status.isScheduled)
    }

    @Test("row 'refused after a refresh that was interrupted by a crash': needs_reauth, 'rotation probably lost'")
    func refusedAfterInterruptedRefresh() {
        let failure = RefreshFailure(.grantDead, httpStatus: 400, oauthError: "invalid_grant", detail: "invalid_grant")
        let update = lifecycle.update(after: .failure(failure), for: Fixture.claim(interrupted: true), at: now, unitRandom: 0.5)
        #expect(update.status == .needsReauth)
        #expect(update.message.contains("a rotation was probably lost"))
        #expect(update.failure?.detail == "rotation probably lost: invalid_grant")
        // A restored backup is the likelier cause, and named first.
        let restored = lifecycle.update(
            after: .failure(failure), for: Fixture.claim(interrupted: true, restoredBackupTakenAt: now.addingTimeInterval(-86_400)),
            at: now, unitRandom: 0.5)
        #expect(restored.message.hasPrefix("restored from a backup taken at "))
        // And an interrupted refresh that succeeds says so, as an event.
        let healed = lifecycle.update(after: .success(Fixture.tokens()), for: Fixture.claim(interrupted: true), at: now, unitRandom: 0.5)
        #expect(healed.status == .authorized && healed.alwaysRecordEvent)
        #expect(healed.message == "refreshed after an interrupted refresh whose outcome was uncertain")
        #expect(lifecycle.refreshTokenWarning(of: healed, interrupted: true) == nil)
    }

    @Test("row 'the authoriser of a library is no longer in its NRTADMIN group': not_nrtadmin, stops")
    func noLongerNrtadmin() {
        var update = lifecycle.update(after: .success(Fixture.tokens()), for: Fixture.claim(), at: now, unitRandom: 0.5)
        let verdict = NrtadminCheck.verdict(members: .success(["BOB"]), userID: "ALICE")
        #expect(verdict == .notMember)
        lifecycle.nrtadminChecked(verdict, of: Fixture.record(), into: &update, at: now)
        #expect(update.status == .notNrtadmin)
        #expect(update.nextRefreshAt == nil)
        #expect(update.message == "Alice Admin (ALICE) is no longer an NRTADMIN of library ACTIVE: an NRTADMIN of it must authorise it again")
        #expect(!update.status.isScheduled)
    }

    @Test("row 'NRTADMIN … checked at the grant's first refresh, then every nrtadmin_check_hours'")
    func nrtadminCheckTimes() {
        #expect(lifecycle.nrtadminCheckIsDue(Fixture.record(nrtadminCheckedAgo: nil), now: now), "first refresh")
        #expect(!lifecycle.nrtadminCheckIsDue(Fixture.record(nrtadminCheckedAgo: 86_399), now: now))
        #expect(lifecycle.nrtadminCheckIsDue(Fixture.record(nrtadminCheckedAgo: 86_400), now: now))
        #expect(!lifecycle.nrtadminCheckIsDue(Fixture.record(kind: .user), now: now), "users have no NRTADMIN check")
        // Confirmed: the check time moves on, the refresh stands.
        var update = lifecycle.update(after: .success(Fixture.tokens()), for: Fixture.claim(), at: now, unitRandom: 0.5)
        lifecycle.nrtadminChecked(.member, of: Fixture.record(), into: &update, at: now)
        #expect(update.status == .authorized && update.nrtadminCheckedAt == now)
    }

    @Test("row 'organisation disabled or removed from the configuration': disabled, whatever is stored")
    func organisationDisabled() {
        for status in GrantStatus.allCases {
            #expect(lifecycle.effectiveStatus(of: Fixture.record(status), organisationEnabled: false, now: now) == .disabled)
        }
        #expect(GrantStatus.disabled.severity == .ok)
    }

    @Test("row 'tokens, but the refresh token expires within refresh_token_warning_days': authorized, a warning at the first refresh after an authorisation, then once a day")
    func refreshTokenWarning() {
        // Inside the 30-day window, and half a day off the token's day boundaries (days count from its issue).
        let window = 20.5 * 86_400
        // First refresh after an authorisation (no attempt yet), 20 days before the refresh token's expiry.
        let fresh = Fixture.record(refreshTokenLeft: window, lastRefreshAgo: nil)
        let first = lifecycle.update(after: .success(Fixture.tokens(rotated: false)), for: Fixture.claim(fresh), at: now, unitRandom: 0.5)
        #expect(first.status == .authorized && first.refreshTokenWarning && first.alwaysRecordEvent)
        #expect(first.message.hasPrefix("the refresh token expires at ") && first.message.hasSuffix(": authorise again before then"))
        #expect(lifecycle.refreshTokenWarning(of: first, interrupted: false) == first.message)
        // Refreshed again the same day (counted from the token's issue): no second warning.
        let sameDay = Fixture.record(refreshTokenLeft: window, lastRefreshAgo: 900)
        let quiet = lifecycle.update(after: .success(Fixture.tokens(rotated: false)), for: Fixture.claim(sameDay), at: now, unitRandom: 0.5)
        #expect(!quiet.refreshTokenWarning && quiet.message == "refreshed")
        #expect(lifecycle.refreshTokenWarning(of: quiet, interrupted: false) == nil)
        // A day later: warned again.
        let nextDay = Fixture.record(refreshTokenLeft: window, lastRefreshAgo: 86_400)
        #expect(lifecycle.update(after: .success(Fixture.tokens(rotated: false)), for: Fixture.claim(nextDay), at: now, unitRandom: 0.5)
            .refreshTokenWarning)
        // Outside the window, never; and a rotated token restarts the window.
        let far = Fixture.record(refreshTokenLeft: 200 * 86_400, lastRefreshAgo: nil)
        #expect(!lifecycle.update(after: .success(Fixture.tokens(rotated: false)), for: Fixture.claim(far), at: now, unitRandom: 0.5)
            .refreshTokenWarning)
        #expect(!lifecycle.update(after: .success(Fixture.tokens(rotated: true)), for: Fixture.claim(fresh), at: now, unitRandom: 0.5)
            .refreshTokenWarning)
    }

    @Test("row 'the same, for outage_grants distinct grants of one token endpoint within outage_window_seconds': the endpoint is down, one probe, the others wait")
    func endpointDown() {
        var book = EndpointOutageBook(policy: RefreshPolicy())
        let endpoint = "https://cloudimanage.com/auth/oauth2/token"
        let failure = RefreshFailure(.transient, httpStatus: 503, detail: "iManage answered 503")
        var steps: [EndpointOutageBook.Step] = []
        for grant in Int64(1)...3 {
            steps.append(book.record(grant, endpoint: endpoint, organisations: ["acme"], failure: failure,
                                     accessExpiresAt: now.addingTimeInterval(600), now: now.addingTimeInterval(Double(grant)), unitRandom: 0))
        }
        guard case .wentDown = steps[2] else {
            Issue.record("three distinct grants did not take the endpoint down: \(steps)")
            return
        }
        #expect(book.outages.map(\.endpoint) == [endpoint])
        // Another grant of the endpoint sends nothing while it is down.
        if case .refresh = book.decide(9, endpoint: endpoint, accessExpiresAt: now.addingTimeInterval(600), now: now.addingTimeInterval(4)) {
            Issue.record("a waiting grant was let through while the endpoint is down")
        }
    }
}
