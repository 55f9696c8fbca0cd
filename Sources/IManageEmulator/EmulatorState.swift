import Foundation

/// All mutable state of one emulator: people and libraries, grants and tokens, the token
/// policy and the emulated clock. It is a plain value; ``EmulatorCore`` guards it with one lock.
struct EmulatorState: Sendable {
    var directory: Directory
    var ledger = GrantLedger()
    var settings: EmulatorSettings
    /// Seconds added to the wall clock (see ``IManageEmulator/advanceClock(by:)``).
    var clockOffset: Double = 0
    /// Grants revoked for the reuse of a rotated refresh token outside grace.
    var reuseRevocations = 0
    /// Which reuses were a second refresher's and which followed a lost answer; overlapping refreshes.
    var chainWatch = RefreshChainWatch()
    let codeLifetime: Double
    /// Every secret that passed through, when the configuration asks for the record; else nil.
    var issued: IssuedSecrets?

    init(_ configuration: EmulatorConfiguration) {
        directory = Directory(configuration)
        settings = configuration.initialSettings
        codeLifetime = Double(configuration.authorizationCodeLifetime)
        issued = configuration.recordsSecrets ? IssuedSecrets() : nil
    }

    /// The emulator's time, in seconds since 1970.
    var now: Double { Date().timeIntervalSince1970 + clockOffset }
}

/// An OAuth error answer of the token endpoint (RFC 6749 §5.2).
struct OAuthError: Error, Sendable {
    enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
    }

    let code: Code
    /// A short human explanation; never contains a token, code or secret.
    let description: String

    static func invalidRequest(_ description: String) -> OAuthError { .init(code: .invalidRequest, description: description) }
    static func invalidGrant(_ description: String) -> OAuthError { .init(code: .invalidGrant, description: description) }

    var outcome: RequestOutcome {
        switch code {
        case .invalidRequest: .invalidRequest
        case .invalidClient: .invalidClient
        case .invalidGrant: .invalidGrant
        case .unauthorizedClient: .unauthorizedClient
        case .unsupportedGrantType: .unsupportedGrantType
        }
    }
}

/// What a successful token request hands out.
struct TokenGrantAnswer: Sendable {
    let accessToken: TokenKey
    /// Present when a refresh token is to be given to the client (new or, within grace, current).
    let refreshToken: TokenKey?
    /// Seconds, or nil when `expires_in` is switched off.
    let expiresIn: Int?
}

// MARK: - OAuth operations

extension EmulatorState {
    /// The client with these credentials, or `invalid_client`.
    func authenticateClient(id: String?, secret: String?) throws(OAuthError) -> EmulatorConfiguration.OAuthClient {
        guard let id, let secret, let client = directory.client(id), constantTimeEquals(client.secret, secret) else {
            throw OAuthError(code: .invalidClient, description: "client authentication failed")
        }
        return client
    }

    /// Creates an authorization code for a signed-in user.
    mutating func issueCode(userID: String, clientID: String, redirectURI: String, codeChallenge: String?) -> TokenKey {
        let now = self.now
        let code = ledger.issueCode(
            GrantLedger.AuthorizationCode(
                userID: userID, clientID: clientID, redirectURI: redirectURI, codeChallenge: codeChallenge,
                expiresAt: now + codeLifetime, redeemedGrant: nil),
            now: now)
        issued?.recordCode(code)
        return code
    }

    /// The `authorization_code` grant. Presenting a code a second time revokes the grant it created.
    mutating func exchangeCode(
        _ codeText: String, redirectURI: String?, codeVerifier: String?, client: EmulatorConfiguration.OAuthClient
    ) throws(OAuthError) -> TokenGrantAnswer {
        let now = self.now
        guard let key = TokenKey(text: codeText), let code = ledger.code(key) else {
            throw .invalidGrant("unknown authorization code")
        }
        if let grant = code.redeemedGrant {
            ledger.revoke(grant: grant)
            throw .invalidGrant("authorization code already used; the grant it created is revoked")
        }
        guard code.clientID == client.id else { throw .invalidGrant("authorization code was issued to another client") }
        guard now < code.expiresAt else { throw .invalidGrant("authorization code expired") }
        guard redirectURI == code.redirectURI else { throw .invalidGrant("redirect_uri does not match the authorization request") }
        switch (code.codeChallenge, codeVerifier) {
        case (nil, nil):
            break
        case (let challenge?, let verifier?):
            guard PKCE.verifier(verifier, matches: challenge) else { throw .invalidGrant("code_verifier does not match") }
        case (_?, nil):
            throw .invalidGrant("code_verifier missing")
        case (nil, _?):
            throw .invalidGrant("code_verifier given but no code_challenge was")
        }
        guard directory.isEnabled(code.userID) else { throw .invalidGrant("user is disabled") }

        let grant = ledger.createGrant(
            userID: code.userID, clientID: client.id, withRefreshToken: client.issueRefreshTokens,
            refreshExpiresAt: now + Double(settings.refreshTokenLifetime))
        ledger.markRedeemed(code: key, grant: grant)
        let access = ledger.issueAccessToken(grant: grant, expiresAt: now + Double(settings.accessTokenLifetime))
        return TokenGrantAnswer(
            accessToken: access, refreshToken: ledger.grant(grant).refreshToken, expiresIn: expiresInForAnswer)
    }

    /// The `refresh_token` grant, with rotation, grace and reuse detection as the settings say.
    mutating func refresh(_ tokenText: String, client: EmulatorConfiguration.OAuthClient) throws(OAuthError) -> TokenGrantAnswer {
        let now = self.now
        guard let key = TokenKey(text: tokenText), let record = ledger.refreshTokenRecord(key) else {
            throw .invalidGrant("unknown refresh token")
        }
        let index = record.grant
        let grant = ledger.grant(index)
        guard grant.clientID == client.id else { throw .invalidGrant("refresh token was issued to another client") }
        guard !grant.isRevoked else { throw .invalidGrant("refresh token revoked") }
        guard now < grant.refreshExpiresAt else { throw .invalidGrant("refresh token expired") }
        guard directory.isEnabled(grant.userID) else { throw .invalidGrant("user is disabled") }
        let accessExpiresAt = now + Double(settings.accessTokenLifetime)

        if let rotatedAt = record.rotatedAt {
            guard now <= rotatedAt + Double(settings.rotationGraceSeconds), settings.rotationGraceSeconds > 0 else {
                ledger.revoke(grant: index)
                reuseRevocations += 1
                chainWatch.recordReuse(of: key)
                throw .invalidGrant("rotated refresh token reused; the whole grant is revoked")
            }
            // Within grace: answer the chain's current tokens, as Okta and Auth0 do.
            var access = grant.accessToken
            if access == nil || grant.accessExpiresAt <= now {
                access = ledger.issueAccessToken(grant: index, expiresAt: accessExpiresAt)
            }
            return TokenGrantAnswer(
                accessToken: access!, refreshToken: ledger.grant(index).refreshToken,
                expiresIn: expiresIn(until: ledger.grant(index).accessExpiresAt, now: now))
        }

        let access = ledger.issueAccessToken(grant: index, expiresAt: accessExpiresAt)
        if settings.refreshTokenLifetimeRestartsOnRefresh {
            ledger.setRefreshExpiry(grant: index, now + Double(settings.refreshTokenLifetime))
        }
        // Rotation off: the answer carries no refresh_token; the one the client has keeps working.
        let newRefresh: TokenKey? = settings.rotatesRefreshTokens ? ledger.rotateRefreshToken(grant: index, now: now) : nil
        return TokenGrantAnswer(accessToken: access, refreshToken: newRefresh, expiresIn: expiresInForAnswer)
    }

    private var expiresInForAnswer: Int? {
        settings.includesExpiresIn ? settings.accessTokenLifetime : nil
    }

    private func expiresIn(until expiry: Double, now: Double) -> Int? {
        settings.includesExpiresIn ? max(0, Int((expiry - now).rounded(.down))) : nil
    }
}

// MARK: - API authentication

/// Why an API request's `X-Auth-Token` was refused.
enum AccessRefusal: Error, Sendable {
    case missing, unknown, expired, userDisabled

    var code: String {
        switch self {
        case .missing: "AUTH_TOKEN_MISSING"
        case .unknown: "AUTH_TOKEN_INVALID"
        case .expired: "AUTH_TOKEN_EXPIRED"
        case .userDisabled: "USER_DISABLED"
        }
    }

    var message: String {
        switch self {
        case .missing: "The X-Auth-Token header is missing."
        case .unknown: "The access token is not valid."
        case .expired: "The access token has expired."
        case .userDisabled: "The user account is disabled."
        }
    }
}

extension EmulatorState {
    /// The user an access token belongs to, if it is current and unexpired.
    func authenticateAccess(_ tokenText: String?) -> Result<Directory.Person, AccessRefusal> {
        guard let tokenText, !tokenText.isEmpty else { return .failure(.missing) }
        guard let key = TokenKey(text: tokenText), let index = ledger.grantIndex(forAccessToken: key) else {
            return .failure(.unknown)
        }
        let grant = ledger.grant(index)
        guard !grant.isRevoked else { return .failure(.unknown) }
        guard now < grant.accessExpiresAt else { return .failure(.expired) }
        guard let person = directory.person(grant.userID), person.isEnabled else { return .failure(.userDisabled) }
        return .success(person)
    }
}
