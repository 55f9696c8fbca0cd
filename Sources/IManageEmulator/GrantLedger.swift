/// Every grant the emulator has issued and every token and code that refers to one.
///
/// A grant (a "chain") is what one sign-in creates: its refresh token (the current one;
/// rotated ones keep pointing at the grant), its one current access token (the previous is
/// dropped when a new one is issued), and their expiry. All lookups are O(1) dictionary or
/// array accesses keyed by ``TokenKey``.
struct GrantLedger: Sendable {
    struct Grant: Sendable {
        let userID: String
        let clientID: String
        /// The current refresh token; nil when the client is not allowed refresh tokens.
        var refreshToken: TokenKey?
        var accessToken: TokenKey?
        var accessExpiresAt: Double
        var refreshExpiresAt: Double
        var isRevoked = false
    }

    struct RefreshTokenRecord: Sendable {
        let grant: Int
        /// When this token was replaced by a newer one; nil while it is the grant's current token.
        var rotatedAt: Double?
        /// The token the rotation that replaced this one issued (its answer carried it).
        var successor: TokenKey?
        /// A client sent it to the token endpoint at least once: someone holds it. A successor
        /// never presented is one whose answer never reached anyone who kept it.
        var presented = false
    }

    struct AuthorizationCode: Sendable {
        let userID: String
        let clientID: String
        let redirectURI: String
        /// The PKCE S256 challenge given at authorization, if any.
        let codeChallenge: String?
        let expiresAt: Double
        /// The grant this code created; set once it has been exchanged.
        var redeemedGrant: Int?
    }

    private(set) var grants: [Grant] = []
    private(set) var refreshTokens: [TokenKey: RefreshTokenRecord] = [:]
    private(set) var accessTokens: [TokenKey: Int] = [:]
    private var codes: [TokenKey: AuthorizationCode] = [:]
    private var codesIssuedSinceSweep = 0

    // MARK: Grants

    /// Creates a grant and returns its index.
    mutating func createGrant(
        userID: String, clientID: String, withRefreshToken: Bool, refreshToken: TokenKey = .random(),
        refreshExpiresAt: Double
    ) -> Int {
        let index = grants.count
        let refresh: TokenKey? = withRefreshToken ? refreshToken : nil
        grants.append(Grant(
            userID: userID, clientID: clientID, refreshToken: refresh, accessToken: nil,
            accessExpiresAt: 0, refreshExpiresAt: refreshExpiresAt))
        if let refresh { refreshTokens[refresh] = RefreshTokenRecord(grant: index, rotatedAt: nil) }
        return index
    }

    /// Makes room for `count` more grants, growing geometrically (reserving exactly what is
    /// asked, batch after batch, would copy and rehash everything each time).
    mutating func reserveCapacity(additionalGrants count: Int) {
        let grantsNeeded = grants.count + count
        if grants.capacity < grantsNeeded { grants.reserveCapacity(max(grantsNeeded, grants.capacity * 2)) }
        let tokensNeeded = refreshTokens.count + count
        if refreshTokens.capacity < tokensNeeded {
            refreshTokens.reserveCapacity(max(tokensNeeded, refreshTokens.capacity * 2))
        }
    }

    func grant(_ index: Int) -> Grant { grants[index] }

    /// Issues a new access token for a grant, dropping the previous one.
    mutating func issueAccessToken(grant index: Int, expiresAt: Double) -> TokenKey {
        let key = TokenKey.random()
        if let previous = grants[index].accessToken { accessTokens.removeValue(forKey: previous) }
        grants[index].accessToken = key
        grants[index].accessExpiresAt = expiresAt
        accessTokens[key] = index
        return key
    }

    /// Replaces a grant's refresh token with a new one; the old one is marked rotated at `now`.
    mutating func rotateRefreshToken(grant index: Int, now: Double) -> TokenKey {
        let key = TokenKey.random()
        if let previous = grants[index].refreshToken {
            refreshTokens[previous]?.rotatedAt = now
            refreshTokens[previous]?.successor = key
        }
        grants[index].refreshToken = key
        refreshTokens[key] = RefreshTokenRecord(grant: index, rotatedAt: nil)
        return key
    }

    mutating func setRefreshExpiry(grant index: Int, _ expiresAt: Double) {
        grants[index].refreshExpiresAt = expiresAt
    }

    /// Revokes a grant: its refresh tokens stop working and its access token is dropped.
    mutating func revoke(grant index: Int) {
        grants[index].isRevoked = true
        if let access = grants[index].accessToken { accessTokens.removeValue(forKey: access) }
        grants[index].accessToken = nil
    }

    /// Revokes every grant of a user (a linear pass; a control operation, not a hot path).
    mutating func revokeAll(ofUser userID: String) {
        for index in grants.indices where grants[index].userID == userID && !grants[index].isRevoked {
            revoke(grant: index)
        }
        codes = codes.filter { $0.value.userID != userID }
    }

    func refreshTokenRecord(_ key: TokenKey) -> RefreshTokenRecord? { refreshTokens[key] }

    /// Notes that a client presented `key`; returns its grant, or nil for a token never issued.
    mutating func markPresented(_ key: TokenKey) -> Int? {
        refreshTokens[key]?.presented = true
        return refreshTokens[key]?.grant
    }

    /// Whether the token that replaced `key` was ever presented (nil: `key` was never rotated).
    func successorWasPresented(_ key: TokenKey) -> Bool? {
        guard let successor = refreshTokens[key]?.successor else { return nil }
        return refreshTokens[successor]?.presented ?? false
    }

    func grantIndex(forAccessToken key: TokenKey) -> Int? { accessTokens[key] }

    // MARK: Authorization codes

    /// Records a new authorization code; old codes are swept from time to time.
    mutating func issueCode(_ code: AuthorizationCode, now: Double) -> TokenKey {
        codesIssuedSinceSweep += 1
        if codesIssuedSinceSweep >= 256 {
            codesIssuedSinceSweep = 0
            // Keep spent and expired codes ten minutes, so reuse is still recognised and revokes.
            codes = codes.filter { $0.value.expiresAt + 600 > now }
        }
        let key = TokenKey.random()
        codes[key] = code
        return key
    }

    func code(_ key: TokenKey) -> AuthorizationCode? { codes[key] }

    mutating func markRedeemed(code key: TokenKey, grant: Int) {
        codes[key]?.redeemedGrant = grant
    }
}
