import Foundation
import Testing
import TokendPolicy

@Suite("Refresh policy")
struct RefreshPolicyTests {
    let policy = RefreshPolicy()
    let issued = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a 30-minute token is refreshed at half-life, within ±10%")
    func halfLife() {
        let expires = issued.addingTimeInterval(1800)
        #expect(policy.nextRefresh(issuedAt: issued, expiresAt: expires, unitRandom: 0.5) == issued.addingTimeInterval(900))
        #expect(policy.nextRefresh(issuedAt: issued, expiresAt: expires, unitRandom: 0) == issued.addingTimeInterval(810))
        #expect(policy.nextRefresh(issuedAt: issued, expiresAt: expires, unitRandom: 1) == issued.addingTimeInterval(990))
    }

    @Test("never sooner than the minimum interval, even for a very short token")
    func minimumInterval() {
        let at = policy.nextRefresh(issuedAt: issued, expiresAt: issued.addingTimeInterval(4), unitRandom: 0)
        #expect(at == issued.addingTimeInterval(5))
        #expect(policy.earliestAttempt(after: issued) == issued.addingTimeInterval(5))
    }

    @Test("backoff starts at 30 s, grows to 5 min with jitter, and honours Retry-After")
    func backoff() {
        #expect(policy.retryDelay(afterFailures: 1, retryAfter: nil, unitRandom: 0.9) == 30)
        #expect(policy.retryDelay(afterFailures: 2, retryAfter: nil, unitRandom: 1) == 60)
        #expect(policy.retryDelay(afterFailures: 3, retryAfter: nil, unitRandom: 0) == 30)
        #expect(policy.retryDelay(afterFailures: 50, retryAfter: nil, unitRandom: 1) == 300)
        #expect(policy.retryDelay(afterFailures: 1, retryAfter: 120, unitRandom: 0) == 120)
        #expect(policy.retryDelay(afterFailures: 1, retryAfter: 10, unitRandom: 0) == 30)
        #expect(policy.retryDelay(afterFailures: 1, retryAfter: 99_999, unitRandom: 0) == 3600)
    }

    @Test("retrying while the access token lives, expired after")
    func passingFailureStatus() {
        let expiry = issued.addingTimeInterval(1800)
        #expect(policy.passingFailureStatus(accessExpiresAt: expiry, now: issued) == .retrying)
        #expect(policy.passingFailureStatus(accessExpiresAt: expiry, now: expiry) == .expired)
        #expect(policy.passingFailureStatus(accessExpiresAt: nil, now: issued) == .expired)
    }

    @Test("refresh-token expiry warning from 30 days before")
    func refreshTokenWarning() {
        let expiry = policy.refreshTokenExpiry(issuedAt: issued)
        #expect(expiry == issued.addingTimeInterval(365 * 86_400))
        #expect(!policy.refreshTokenNeedsAttention(expiresAt: expiry, now: expiry.addingTimeInterval(-31 * 86_400)))
        #expect(policy.refreshTokenNeedsAttention(expiresAt: expiry, now: expiry.addingTimeInterval(-29 * 86_400)))
    }

    @Test("overdue grants at start-up are spread at the configured rate")
    func startupSpread() {
        let deadlines = (0..<1000).map { policy.startupDeadline(forOverdueIndex: $0, now: issued) }
        let inFirstSecond = deadlines.filter { $0 < issued.addingTimeInterval(1) }.count
        #expect(inFirstSecond == 20)
    }

    @Test("statuses map to Nagios severities")
    func severities() {
        #expect(GrantStatus.authorized.severity == .ok)
        #expect(GrantStatus.retrying.severity == .warning)
        #expect(GrantStatus.needsReauth.severity == .critical)
        #expect(GrantStatus.allCases.map(\.rawValue).contains("not_nrtadmin"))
    }
}

@Suite("What a refused token request means")
struct RefusalClassTests {
    @Test("the OAuth error decides first, then the HTTP status")
    func classes() {
        #expect(RefreshFailure.classify(httpStatus: 400, oauthError: "invalid_grant") == .grantDead)
        #expect(RefreshFailure.classify(httpStatus: 401, oauthError: "invalid_client") == .clientRefused)
        #expect(RefreshFailure.classify(httpStatus: 400, oauthError: "unauthorized_client") == .clientRefused)
        #expect(RefreshFailure.classify(httpStatus: 503, oauthError: "invalid_grant") == .grantDead)
        #expect(RefreshFailure.classify(httpStatus: 401, oauthError: nil) == .grantDead)
        #expect(RefreshFailure.classify(httpStatus: 400, oauthError: "invalid_request") == .grantDead)
        #expect(RefreshFailure.classify(httpStatus: 503, oauthError: nil) == .transient)
        #expect(RefreshFailure.classify(httpStatus: 429, oauthError: nil) == .transient)
        #expect(RefreshFailure.classify(httpStatus: 404, oauthError: nil) == .transient)
    }
}
