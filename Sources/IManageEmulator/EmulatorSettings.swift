/// The token policy of a running emulator, changeable at run time (as an administrator
/// changes an application's settings in Control Center). Changes apply to tokens issued
/// afterwards; tokens already issued keep the lifetimes they were given.
///
/// JSON form (`GET`/`PATCH /_emulator/settings`):
/// `{"access_token_lifetime":1800,"expires_in":true,"refresh_token_lifetime":31536000,
///   "refresh_token_lifetime_restarts":false,"rotation":false,"grace_seconds":0,"require_pkce":false}`
public struct EmulatorSettings: Sendable, Equatable, Codable {
    /// Seconds an access token lives.
    public var accessTokenLifetime: Int
    /// Whether token answers carry `expires_in`.
    public var includesExpiresIn: Bool
    /// Seconds a refresh token lives.
    public var refreshTokenLifetime: Int
    /// Whether a refresh starts the refresh token's lifetime again.
    public var refreshTokenLifetimeRestartsOnRefresh: Bool
    /// Whether each refresh issues a new refresh token.
    public var rotatesRefreshTokens: Bool
    /// Seconds a rotated refresh token is still honoured.
    public var rotationGraceSeconds: Int
    /// Whether the authorize endpoint requires a PKCE challenge.
    public var requirePKCE: Bool

    public init(
        accessTokenLifetime: Int = 1800, includesExpiresIn: Bool = true,
        refreshTokenLifetime: Int = 365 * 24 * 3600, refreshTokenLifetimeRestartsOnRefresh: Bool = false,
        rotatesRefreshTokens: Bool = false, rotationGraceSeconds: Int = 0, requirePKCE: Bool = false
    ) {
        self.accessTokenLifetime = accessTokenLifetime
        self.includesExpiresIn = includesExpiresIn
        self.refreshTokenLifetime = refreshTokenLifetime
        self.refreshTokenLifetimeRestartsOnRefresh = refreshTokenLifetimeRestartsOnRefresh
        self.rotatesRefreshTokens = rotatesRefreshTokens
        self.rotationGraceSeconds = rotationGraceSeconds
        self.requirePKCE = requirePKCE
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case accessTokenLifetime = "access_token_lifetime"
        case includesExpiresIn = "expires_in"
        case refreshTokenLifetime = "refresh_token_lifetime"
        case refreshTokenLifetimeRestartsOnRefresh = "refresh_token_lifetime_restarts"
        case rotatesRefreshTokens = "rotation"
        case rotationGraceSeconds = "grace_seconds"
        case requirePKCE = "require_pkce"
    }

    /// What is wrong with these settings, or nil when they are usable.
    public var problem: String? {
        let tenYears = 10 * 366 * 24 * 3600
        if !(1...tenYears).contains(accessTokenLifetime) { return "access_token_lifetime must be 1...\(tenYears) seconds" }
        if !(1...tenYears).contains(refreshTokenLifetime) { return "refresh_token_lifetime must be 1...\(tenYears) seconds" }
        if !(0...tenYears).contains(rotationGraceSeconds) { return "grace_seconds must be 0...\(tenYears) seconds" }
        return nil
    }
}

/// A partial change of ``EmulatorSettings``: the fields present replace the current values.
struct EmulatorSettingsChange: Decodable {
    var accessTokenLifetime: Int?
    var includesExpiresIn: Bool?
    var refreshTokenLifetime: Int?
    var refreshTokenLifetimeRestartsOnRefresh: Bool?
    var rotatesRefreshTokens: Bool?
    var rotationGraceSeconds: Int?
    var requirePKCE: Bool?

    typealias CodingKeys = EmulatorSettings.CodingKeys

    func applied(to settings: EmulatorSettings) -> EmulatorSettings {
        var result = settings
        if let accessTokenLifetime { result.accessTokenLifetime = accessTokenLifetime }
        if let includesExpiresIn { result.includesExpiresIn = includesExpiresIn }
        if let refreshTokenLifetime { result.refreshTokenLifetime = refreshTokenLifetime }
        if let refreshTokenLifetimeRestartsOnRefresh {
            result.refreshTokenLifetimeRestartsOnRefresh = refreshTokenLifetimeRestartsOnRefresh
        }
        if let rotatesRefreshTokens { result.rotatesRefreshTokens = rotatesRefreshTokens }
        if let rotationGraceSeconds { result.rotationGraceSeconds = rotationGraceSeconds }
        if let requirePKCE { result.requirePKCE = requirePKCE }
        return result
    }
}
