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

@Suite("Token endpoint answers")
struct TokenResponseParserTests {
    func parse(_ status: Int, _ body: String, retryAfter: String? = nil) -> Result<TokenResponse, RefreshFailure> {
        TokenResponseParser.parse(status: status, body: Array(body.utf8), retryAfterHeader: retryAfter)
    }

    @Test("a full answer, and a missing expires_in meaning 1800 s")
    func success() throws {
        let full = try parse(200, #"{"access_token":"A","refresh_token":"R","token_type":"Bearer","expires_in":600}"#).get()
        #expect(full == TokenResponse(accessToken: "A", refreshToken: "R", expiresIn: 600, tokenType: "Bearer"))
        let bare = try parse(200, #"{"access_token":"A"}"#).get()
        #expect(bare.expiresIn == 1800)
        #expect(bare.refreshToken == nil)
        #expect(try parse(200, #"{"access_token":"A","refresh_token":""}"#).get().refreshToken == nil)
        #expect(try parse(200, #"{"access_token":"A","expires_in":"900"}"#).get().expiresIn == 900)
    }

    @Test("answers that are failed refreshes", arguments: [
        #"{"refresh_token":"R"}"#, #"{"access_token":""}"#, #"{"access_token":"A","expires_in":"soon"}"#,
        #"{"access_token":"A","expires_in":0}"#, #"{"access_token":"A","expires_in":true}"#,
        "<html>proxy</html>", "[1,2]", "",
    ])
    func unusable(body: String) {
        guard case .failure(let failure) = parse(200, body) else {
            Issue.record("accepted \(body)")
            return
        }
        #expect(failure.failureClass == .transient)
    }

    @Test("error classes")
    func classes() {
        func failureClass(_ status: Int, _ body: String) -> FailureClass? {
            if case .failure(let failure) = parse(status, body) { return failure.failureClass }
            return nil
        }
        #expect(failureClass(400, #"{"error":"invalid_grant"}"#) == .grantDead)
        #expect(failureClass(401, #"{"error":"invalid_client"}"#) == .clientRefused)
        #expect(failureClass(400, #"{"error":"unauthorized_client"}"#) == .clientRefused)
        #expect(failureClass(401, "") == .grantDead)
        #expect(failureClass(503, "") == .transient)
        #expect(failureClass(429, "") == .transient)
        #expect(failureClass(404, "") == .transient)
    }

    @Test("Retry-After as seconds and as a date")
    func retryAfter() {
        guard case .failure(let failure) = parse(429, "", retryAfter: "42") else { return #expect(Bool(false)) }
        #expect(failure.retryAfter == 42)
        // Fri, 15 Jan 2027 08:00:00 GMT is 1_800_000_000 seconds after the epoch; ask 120 s before it.
        let now = Date(timeIntervalSince1970: 1_800_000_000 - 120)
        #expect(RetryAfter.seconds(from: "Fri, 15 Jan 2027 08:00:00 GMT", now: now) == 120)
        #expect(RetryAfter.seconds(from: "garbage", now: now) == nil)
    }

    @Test("nothing token-like survives in a kept excerpt")
    func redaction() throws {
        let body = #"{"error":"invalid_grant","refresh_token":"rt-SECRET-1234","note":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijk"}"#
        guard case .failure(let failure) = parse(400, body) else { return #expect(Bool(false)) }
        let excerpt = try #require(failure.responseExcerpt)
        #expect(!excerpt.contains("rt-SECRET-1234"))
        #expect(!excerpt.contains("eyJhbGciOiJIUzI1NiJ9"))
        #expect(excerpt.contains("invalid_grant"))
        #expect(!failure.description.contains("SECRET"))
    }
}

/// Inputs the fuzzer (scripts/fuzz, target token-response) turned up, each with what it broke.
@Suite("Token endpoint answers found by fuzzing")
struct TokenResponseFuzzFindingsTests {
    func excerpt(_ status: Int, _ body: String) throws -> String {
        guard case .failure(let failure) = TokenResponseParser.parse(status: status, body: Array(body.utf8)) else {
            Issue.record("accepted \(body)")
            return ""
        }
        return try #require(failure.responseExcerpt)
    }

    @Test("a short token after a space, comma or quote is not shown in the excerpt", arguments: [
        (500, #"{"error":"server_error","access_token":" abcdefghij"}"#, " abcdefghij"),
        (200, #"{"access_token":"\"abcdefghij","expires_in":-5}"#, #""abcdefghij"#),
        (400, #"{"error":"invalid_grant","refresh_token":",abcdefghij"}"#, ",abcdefghij"),
        (503, #"{"access\u005ftoken":"abc def ghi","note":"abc def ghi"}"#, "abc def ghi"),
    ])
    func tokenNotInExcerpt(status: Int, body: String, token: String) throws {
        let shown = try excerpt(status, body)
        #expect(!shown.contains(token))
        #expect(shown.contains("[redacted]"))
    }
}

/// Retry-After headers the fuzzer (scripts/fuzz, target token-response) turned up.
@Suite("Retry-After headers found by fuzzing")
struct RetryAfterFuzzFindingsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000 - 120)

    @Test("a date with a combining mark is not a date, and does not trap in DateFormatter", arguments: [
        "Fri, 15 Jan 2027 08:00:0\u{06DA}xpires_in\"0 GMT",  // the fuzzer's input
        "Fri, 15 Jan 2027 08:00:00 GMT\u{06DA}",
        "Fri, 15 Jan 2027 08:00:0\u{0301}0 GMT",
    ])
    func combiningMark(header: String) {
        #expect(RetryAfter.seconds(from: header, now: now) == nil)
        guard case .failure(let failure) = TokenResponseParser.parse(status: 503, body: [], retryAfterHeader: header, now: now) else {
            Issue.record("a 503 was accepted")
            return
        }
        #expect(failure.retryAfter == nil)
    }

    @Test("a plain HTTP date still counts")
    func plainDate() {
        #expect(RetryAfter.seconds(from: "  Fri, 15 Jan 2027 08:00:00 GMT ", now: now) == 120)
    }
}
