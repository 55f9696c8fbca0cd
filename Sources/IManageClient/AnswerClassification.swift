import Foundation
import IManageWire
import TokendPolicy

/// Which grant a token request used; it changes what a refusal means to an administrator.
enum TokenGrant: String, Sendable {
    case refreshToken = "refresh_token"
    case authorizationCode = "authorization_code"
}

/// Puts the host and what to do next into the failures of answers that came back.
enum AnswerClassification {
    /// The tokens of an answer of the token endpoint, or the failure it is: the class is the
    /// refresh policy's (`RefreshFailure.classify`), the words name the host and what to do next.
    static func tokenResult(_ answer: TokenAnswer, host: String, grant: TokenGrant) -> Result<TokenResponse, RefreshFailure> {
        switch answer {
        case .issued(let accessToken, let refreshToken, let expiresIn, let tokenType):
            return .success(TokenResponse(
                accessToken: accessToken, refreshToken: refreshToken, expiresIn: expiresIn, tokenType: tokenType))
        case .unusable(let status, let problem, let excerpt):
            return .failure(RefreshFailure(
                .transient, httpStatus: status, detail: "\(host): \(problem)", responseExcerpt: excerpt))
        case .refused(let status, let oauthError, let retryAfter, let excerpt):
            let failureClass = RefreshFailure.classify(httpStatus: status, oauthError: oauthError)
            return .failure(RefreshFailure(
                failureClass, httpStatus: status, oauthError: oauthError, retryAfter: retryAfter,
                detail: refusalDetail(failureClass, status: status, host: host, grant: grant), responseExcerpt: excerpt))
        }
    }

    /// What a refusal of the token endpoint means, for an administrator.
    private static func refusalDetail(_ failureClass: FailureClass, status: Int, host: String, grant: TokenGrant) -> String {
        switch failureClass {
        case .grantDead where grant == .refreshToken:
            "\(host) refused the refresh token: a person must authorise again"
        case .grantDead:
            "\(host) refused the authorisation code (it expired, was used already, or the "
                + "redirect URL differs from the one registered in iManage): start the authorisation again"
        case .clientRefused:
            "\(host) refused the client id or secret: check the organisation's client_id and "
                + "client_secret_file (the secret may have expired or the application been disabled in iManage)"
        case .transient where status == 429:
            // The status and OAuth error follow in the description: "(HTTP 429, too_many_requests)".
            "\(host) asked us to slow down"
        case .transient where (500..<600).contains(status):
            "\(host)'s token endpoint failed on its side; retrying later"
        case .transient where (300..<400).contains(status):
            "\(host)'s token endpoint answered with a redirect; check the token URL"
        case .transient:
            "\(host)'s token endpoint refused the request; check the token URL"
        }
    }

    /// The failure for an API answer (discovery, libraries, members) whose status is not 2xx.
    ///
    /// 401 means the access token was not accepted (`grantDead`); every other status is passing,
    /// and the status is kept so that the engine can decide (403 on a group: not allowed to see it).
    static func apiFailure(
        status: Int, body: [UInt8], retryAfterHeader: String?, host: String, what: String, now: Date = Date()
    ) -> RefreshFailure {
        let code = APIAnswerParser.errorCode(body).map { ", code \($0)" } ?? ""
        let failureClass: FailureClass = status == 401 ? .grantDead : .transient
        let detail: String
        switch status {
        case 401:
            detail = "\(host) did not accept the access token for the \(what) request\(code)"
        case 429:
            detail = "\(host) asked us to slow down on the \(what) request"
        case 300..<400:
            detail = "\(host) answered the \(what) request with a redirect; check the endpoint URL"
        case 500..<600:
            detail = "\(host) failed on its side answering the \(what) request\(code); retrying later"
        default:
            detail = "\(host) refused the \(what) request\(code)"
        }
        return RefreshFailure(
            failureClass, httpStatus: status,
            retryAfter: RetryAfter.seconds(from: retryAfterHeader, now: now),
            detail: detail, responseExcerpt: ResponseRedactor.excerpt(body))
    }
}
