import Foundation
import IManageWire
import Testing

@Suite("Token endpoint answers")
struct TokenAnswerTests {
    func read(_ status: Int, _ body: String, retryAfter: String? = nil, now: Date = Date()) -> TokenAnswer {
        TokenAnswer.read(status: status, body: Array(body.utf8), retryAfterHeader: retryAfter, now: now)
    }

    @Test("a full answer, and a missing expires_in meaning 1800 s")
    func success() {
        #expect(read(200, #"{"access_token":"A","refresh_token":"R","token_type":"Bearer","expires_in":600}"#)
            == .issued(accessToken: "A", refreshToken: "R", expiresIn: 600, tokenType: "Bearer"))
        #expect(read(200, #"{"access_token":"A"}"#) == .issued(accessToken: "A", refreshToken: nil, expiresIn: 1800, tokenType: nil))
        #expect(read(200, #"{"access_token":"A","refresh_token":""}"#)
            == .issued(accessToken: "A", refreshToken: nil, expiresIn: 1800, tokenType: nil))
        #expect(read(200, #"{"access_token":"A","expires_in":"900"}"#)
            == .issued(accessToken: "A", refreshToken: nil, expiresIn: 900, tokenType: nil))
    }

    @Test("a lifetime past ten years is cut to ten years")
    func longLifetime() {
        guard case .issued(_, _, let lifetime, _) = read(200, #"{"access_token":"A","expires_in":1e300}"#) else {
            return #expect(Bool(false))
        }
        #expect(lifetime == TokenAnswer.maximumLifetime)
    }

    @Test("2xx answers that give no usable token", arguments: [
        #"{"refresh_token":"R"}"#, #"{"access_token":""}"#, #"{"access_token":"A","expires_in":"soon"}"#,
        #"{"access_token":"A","expires_in":0}"#, #"{"access_token":"A","expires_in":true}"#,
        "<html>proxy</html>", "[1,2]", "",
    ])
    func unusable(body: String) {
        guard case .unusable(let status, let problem, _) = read(200, body) else {
            Issue.record("accepted \(body)")
            return
        }
        #expect(status == 200)
        #expect(problem.hasPrefix("the token endpoint"))
    }

    @Test("a refusal keeps its status and its OAuth error, when that reads as a code")
    func refusals() {
        #expect(read(400, #"{"error":"invalid_grant"}"#).refusal?.oauthError == "invalid_grant")
        #expect(read(401, #"{"error":"invalid_client"}"#).refusal?.status == 401)
        #expect(read(401, "").refusal?.oauthError == nil)
        #expect(read(400, #"{"error":"eyJhbGciOiJIUzI1NiJ9x0"}"#).refusal?.oauthError == nil)
        #expect(read(400, #"{"error":{"code":"AUTH_TOKEN_INVALID"}}"#).refusal?.oauthError == nil)
        // A token in a refusal is not a token to use.
        #expect(read(503, #"{"access_token":"A"}"#).refusal?.status == 503)
    }

    @Test("Retry-After as seconds and as a date")
    func retryAfter() {
        #expect(read(429, "", retryAfter: "42").refusal?.retryAfter == 42)
        // Fri, 15 Jan 2027 08:00:00 GMT is 1_800_000_000 seconds after the epoch; ask 120 s before it.
        let now = Date(timeIntervalSince1970: 1_800_000_000 - 120)
        #expect(RetryAfter.seconds(from: "Fri, 15 Jan 2027 08:00:00 GMT", now: now) == 120)
        #expect(RetryAfter.seconds(from: "garbage", now: now) == nil)
    }

    @Test("nothing token-like survives in a kept excerpt or a description")
    func redaction() throws {
        let body = #"{"error":"invalid_grant","refresh_token":"rt-SECRET-1234","note":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijk"}"#
        let answer = read(400, body)
        let excerpt = try #require(answer.refusal?.excerpt)
        #expect(!excerpt.contains("rt-SECRET-1234"))
        #expect(!excerpt.contains("eyJhbGciOiJIUzI1NiJ9"))
        #expect(excerpt.contains("invalid_grant"))
        #expect(!"\(answer)".contains("SECRET"))
        let issued = read(200, #"{"access_token":"at-SECRET-5678","refresh_token":"rt-SECRET-1234"}"#)
        #expect(!"\(issued)".contains("SECRET"))
        var dumped = ""
        dump(issued, to: &dumped)
        #expect(!dumped.contains("SECRET"))
    }
}

/// Inputs the fuzzer (scripts/fuzz, target token-response) turned up, each with what it broke.
@Suite("Token endpoint answers found by fuzzing")
struct TokenAnswerFuzzFindingsTests {
    @Test("a short token after a space, comma or quote is not shown in the excerpt", arguments: [
        (500, #"{"error":"server_error","access_token":" abcdefghij"}"#, " abcdefghij"),
        (200, #"{"access_token":"\"abcdefghij","expires_in":-5}"#, #""abcdefghij"#),
        (400, #"{"error":"invalid_grant","refresh_token":",abcdefghij"}"#, ",abcdefghij"),
        (503, #"{"access\u005ftoken":"abc def ghi","note":"abc def ghi"}"#, "abc def ghi"),
    ])
    func tokenNotInExcerpt(status: Int, body: String, token: String) throws {
        let shown = try #require(TokenAnswer.read(status: status, body: Array(body.utf8)).excerpt)
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
        let answer = TokenAnswer.read(status: 503, body: [], retryAfterHeader: header, now: now)
        #expect(answer.refusal != nil)
        #expect(answer.refusal?.retryAfter == nil)
    }

    @Test("a plain HTTP date still counts")
    func plainDate() {
        #expect(RetryAfter.seconds(from: "  Fri, 15 Jan 2027 08:00:00 GMT ", now: now) == 120)
    }
}

extension TokenAnswer {
    /// The parts of a refusal, for the tests' expectations.
    var refusal: (status: Int, oauthError: String?, retryAfter: TimeInterval?, excerpt: String?)? {
        if case .refused(let status, let oauthError, let retryAfter, let excerpt) = self {
            return (status, oauthError, retryAfter, excerpt)
        }
        return nil
    }

    /// The redacted excerpt of a failure.
    var excerpt: String? {
        switch self {
        case .issued: nil
        case .refused(_, _, _, let excerpt), .unusable(_, _, let excerpt): excerpt
        }
    }
}
