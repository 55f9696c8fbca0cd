import Foundation

/// What the token endpoint answered, read and checked: tokens, a refusal, or a 2xx answer that
/// cannot be used. What a refusal means for the grant (`grantDead`, …) is the refresh policy's
/// call (`RefreshFailure.classify` in TokendPolicy), not the wire's.
///
/// Its description never shows a token.
public enum TokenAnswer: Sendable, Equatable {
    /// A 2xx answer with a usable access token. `refreshToken` is nil when the server did not
    /// rotate it ("keep the one you have"); `expiresIn` is finite, positive and at most ten years.
    case issued(accessToken: String, refreshToken: String?, expiresIn: TimeInterval, tokenType: String?)
    /// An answer that is not 2xx, with its OAuth `error` code when it reads as one.
    case refused(status: Int, oauthError: String?, retryAfter: TimeInterval?, excerpt: String?)
    /// A 2xx answer without a usable token: what is wrong with it, in words for an administrator.
    case unusable(status: Int, problem: String, excerpt: String?)

    /// The largest answer read; a token endpoint answer is a few hundred bytes.
    public static let maximumBodySize = 64 * 1024
    /// The longest access token lifetime believed: ten years.
    public static let maximumLifetime: TimeInterval = 10 * 365 * 86_400

    /// Reads an answer. Pure and total: any bytes at all give one of the three cases.
    /// `excerpt` is redacted (see ``ResponseRedactor``) and made only for a failure.
    public static func read(
        status: Int, body: [UInt8], retryAfterHeader: String? = nil,
        now: Date = Date(), defaultLifetime: TimeInterval = 1800
    ) -> TokenAnswer {
        let fields = try? JSONDecoder().decode(TokenFields.self, from: Data(body.prefix(maximumBodySize)))
        // Redacting runs regular expressions: only a failure needs its excerpt.
        func excerpt() -> String? {
            ResponseRedactor.excerpt(body, hiding: [fields?.accessToken, fields?.refreshToken].compactMap { $0 })
        }
        func unusable(_ problem: String) -> TokenAnswer {
            .unusable(status: status, problem: problem, excerpt: excerpt())
        }

        guard (200..<300).contains(status) else {
            return .refused(
                status: status, oauthError: fields?.error.flatMap(ErrorCode.sanitised),
                retryAfter: RetryAfter.seconds(from: retryAfterHeader, now: now), excerpt: excerpt())
        }
        guard let fields else { return unusable("the token endpoint's answer is not a JSON object") }
        guard let accessToken = fields.accessToken, !accessToken.isEmpty else {
            return unusable("the token endpoint's answer has no access_token")
        }
        let lifetime: TimeInterval
        switch fields.expiresIn {
        case .absent: lifetime = defaultLifetime
        case .number(let value): lifetime = value
        case .notANumber: return unusable("the token endpoint's expires_in is not a number")
        }
        guard lifetime.isFinite, lifetime > 0 else {
            return unusable("the token endpoint gave an access token that has already expired")
        }
        return .issued(
            accessToken: accessToken, refreshToken: fields.refreshToken.flatMap { $0.isEmpty ? nil : $0 },
            expiresIn: min(lifetime, maximumLifetime), tokenType: fields.tokenType)
    }
}

extension TokenAnswer: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    // The tokens never show in interpolation, `dump` or a failing test's message.
    public var description: String {
        switch self {
        case .issued(_, let refreshToken, let expiresIn, _):
            "TokenAnswer.issued(accessToken: <redacted>, refreshToken: \(refreshToken == nil ? "nil" : "<redacted>"), expiresIn: \(expiresIn))"
        case .refused(let status, let oauthError, _, _):
            "TokenAnswer.refused(HTTP \(status)\(oauthError.map { ", \($0)" } ?? ""))"
        case .unusable(let status, let problem, _):
            "TokenAnswer.unusable(HTTP \(status): \(problem))"
        }
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .enum) }
}

/// The fields of a token endpoint answer, each read leniently so that a wrong type is
/// reported as that field's problem rather than as an unreadable answer.
private struct TokenFields: Decodable {
    enum Lifetime { case absent, number(Double), notANumber }

    var accessToken: String?
    var refreshToken: String?
    var tokenType: String?
    var expiresIn: Lifetime = .absent
    /// The OAuth error code; iManage's API errors (`{"error": {"code": …}}`) leave it `nil`.
    var error: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", refreshToken = "refresh_token", tokenType = "token_type"
        case expiresIn = "expires_in", error
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accessToken = try? container.decodeIfPresent(String.self, forKey: .accessToken)
        refreshToken = try? container.decodeIfPresent(String.self, forKey: .refreshToken)
        tokenType = try? container.decodeIfPresent(String.self, forKey: .tokenType)
        error = try? container.decodeIfPresent(String.self, forKey: .error)
        if !container.contains(.expiresIn) || (try? container.decodeNil(forKey: .expiresIn)) == true {
            expiresIn = .absent
        } else if let number = try? container.decode(Double.self, forKey: .expiresIn) {
            expiresIn = .number(number)
        } else if let text = try? container.decode(String.self, forKey: .expiresIn),
                  let number = Double(text.trimmingCharacters(in: .whitespaces)) {
            expiresIn = .number(number)
        } else {
            expiresIn = .notANumber
        }
    }
}
