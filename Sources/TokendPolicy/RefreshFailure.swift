import Foundation

/// The three kinds of failure the refresh policy tells apart.
public enum FailureClass: String, Sendable, Codable, CaseIterable {
    /// Network, timeout, TLS, 5xx, 429, an unparsable answer: retry with backoff.
    case transient
    /// `invalid_grant`, or 400/401 on refresh: the refresh token is dead, a person must authorise again.
    case grantDead = "grant_dead"
    /// `invalid_client` or `unauthorized_client`: the organisation's client credentials are refused.
    case clientRefused = "client_refused"
}

/// Why a request to iManage failed, with nothing secret in it.
public struct RefreshFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var failureClass: FailureClass
    /// The HTTP status of the answer, if one came.
    public var httpStatus: Int?
    /// The OAuth `error` code of the answer, if any (`invalid_grant`, …).
    public var oauthError: String?
    /// Seconds the server asked us to wait (`Retry-After`).
    public var retryAfter: TimeInterval?
    /// What happened, for a person: never contains a token, code or secret.
    public var detail: String
    /// The start of what the server answered, with anything token-like removed.
    public var responseExcerpt: String?

    public init(
        _ failureClass: FailureClass, httpStatus: Int? = nil, oauthError: String? = nil,
        retryAfter: TimeInterval? = nil, detail: String, responseExcerpt: String? = nil
    ) {
        self.failureClass = failureClass
        self.httpStatus = httpStatus
        self.oauthError = oauthError
        self.retryAfter = retryAfter
        self.detail = detail
        self.responseExcerpt = responseExcerpt
    }

    public var description: String {
        var text = detail
        if let httpStatus { text += " (HTTP \(httpStatus)" + (oauthError.map { ", \($0)" } ?? "") + ")" }
        return text
    }

    /// The class of a refused answer of the token endpoint, from its HTTP status and OAuth error code.
    public static func classify(httpStatus: Int, oauthError: String?) -> FailureClass {
        switch oauthError {
        case "invalid_client", "unauthorized_client": return .clientRefused
        case "invalid_grant": return .grantDead
        default: break
        }
        switch httpStatus {
        case 400, 401: return .grantDead
        default: return .transient
        }
    }
}
