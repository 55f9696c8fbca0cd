import Foundation

/// The tokens a successful answer of the token endpoint issued, checked (read from the wire by
/// `IManageWire.TokenAnswer`).
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
