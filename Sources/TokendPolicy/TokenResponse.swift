import Foundation
import Synchronization

/// A successful answer of the token endpoint, checked.
public struct TokenResponse: Sendable, Equatable {
    public var accessToken: String
    /// A new refresh token, when the server rotated it; `nil` means "keep the one you have".
    public var refreshToken: String?
    /// Seconds the access token lives (1800 when the answer does not say).
    public var expiresIn: TimeInterval
    public var tokenType: String?

    public init(accessToken: String, refreshToken: String?, expiresIn: TimeInterval, tokenType: String?) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
        self.tokenType = tokenType
    }
}

extension TokenResponse: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    // The tokens never show in interpolation, `dump` or a failing test's message.
    public var description: String {
        "TokenResponse(accessToken: <redacted>, refreshToken: \(refreshToken == nil ? "nil" : "<redacted>"), expiresIn: \(expiresIn))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["accessToken": "<redacted>", "refreshToken": refreshToken == nil ? "nil" : "<redacted>",
                                "expiresIn": expiresIn, "tokenType": tokenType as Any], displayStyle: .struct)
    }
}

/// Reads what the token endpoint answered and decides whether it is a usable token or which failure.
///
/// Pure and total: any bytes at all give either a `TokenResponse` or a `RefreshFailure`.
public enum TokenResponseParser {
    /// The largest answer read; a token endpoint answer is a few hundred bytes.
    public static let maximumBodySize = 64 * 1024

    public static func parse(
        status: Int, body: [UInt8], retryAfterHeader: String? = nil,
        now: Date = Date(), defaultLifetime: TimeInterval = 1800
    ) -> Result<TokenResponse, RefreshFailure> {
        let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(body.prefix(maximumBodySize)))
        // Redacting runs regular expressions: only a failure needs its excerpt.
        func excerpt() -> String? {
            ResponseRedactor.excerpt(body, hiding: [answer?.accessToken, answer?.refreshToken].compactMap { $0 })
        }

        guard (200..<300).contains(status) else {
            let oauthError = answer?.error.flatMap(ErrorCode.sanitised)
            let failureClass = RefreshFailure.classify(httpStatus: status, oauthError: oauthError)
            let retryAfter = RetryAfter.seconds(from: retryAfterHeader, now: now)
            let what: String = switch failureClass {
            case .grantDead: "the refresh token was refused"
            case .clientRefused: "the client id or secret was refused"
            case .transient: status == 429 ? "iManage asked us to slow down" : "iManage answered with an error"
            }
            return .failure(RefreshFailure(
                failureClass, httpStatus: status, oauthError: oauthError, retryAfter: retryAfter,
                detail: what, responseExcerpt: excerpt()))
        }
        guard let answer else {
            return .failure(RefreshFailure(
                .transient, httpStatus: status, detail: "the token endpoint's answer is not a JSON object",
                responseExcerpt: excerpt()))
        }
        guard let accessToken = answer.accessToken, !accessToken.isEmpty else {
            return .failure(RefreshFailure(
                .transient, httpStatus: status, detail: "the token endpoint's answer has no access_token",
                responseExcerpt: excerpt()))
        }
        let lifetime: TimeInterval
        switch answer.expiresIn {
        case .absent: lifetime = defaultLifetime
        case .number(let value): lifetime = value
        case .notANumber:
            return .failure(RefreshFailure(
                .transient, httpStatus: status, detail: "the token endpoint's expires_in is not a number",
                responseExcerpt: excerpt()))
        }
        guard lifetime.isFinite, lifetime > 0 else {
            return .failure(RefreshFailure(
                .transient, httpStatus: status, detail: "the token endpoint gave an access token that has already expired",
                responseExcerpt: excerpt()))
        }
        let refreshToken = answer.refreshToken.flatMap { $0.isEmpty ? nil : $0 }
        return .success(TokenResponse(
            accessToken: accessToken, refreshToken: refreshToken,
            expiresIn: min(lifetime, 10 * 365 * 86_400), tokenType: answer.tokenType))
    }
}

/// The fields of a token endpoint answer, each read leniently so that a wrong type is
/// reported as that field's problem rather than as an unreadable answer.
private struct TokenAnswer: Decodable {
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

/// Reads a `Retry-After` header: delta-seconds or an HTTP date.
public enum RetryAfter {
    public static func seconds(from header: String?, now: Date) -> TimeInterval? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Int(header), seconds >= 0 { return TimeInterval(seconds) }
        // An HTTP date is a short line of printable ASCII (RFC 9110, 5.6.7); anything else is
        // refused before the formatter sees it: Foundation's DateFormatter traps when its parse
        // ends inside a grapheme, as after a digit followed by a combining mark (found by fuzzing).
        guard header.utf8.count <= 64, header.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        guard let date = httpDate.withLock({ $0.date(from: header) }) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// Made once: a `DateFormatter` costs tens of milliseconds to make (the fuzzer found every
    /// answer with a date paying that); the lock keeps the one formatter to one thread at a time.
    private static let httpDate: Mutex<DateFormatter> = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return Mutex(formatter)
    }()
}
