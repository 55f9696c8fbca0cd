/// What the emulator knows about a refresh token, read without consuming anything.
public struct RefreshTokenInspection: Sendable, Equatable {
    public enum State: String, Sendable {
        /// The grant's current refresh token; a refresh with it would succeed.
        case active
        /// Replaced by a newer token of the same grant (rotation); within grace it still works.
        case rotated
        /// Its grant was revoked (user revoked, code or token reuse, or by the control API).
        case revoked
        /// Its grant's refresh lifetime has run out.
        case expired
        /// Never issued by this emulator.
        case unknown
    }

    public var state: State
    /// The user id of the grant, when the token is known.
    public var user: String?
    /// The client id of the grant, when the token is known.
    public var clientID: String?
}

/// How the emulator's grants stand, counted: what a crash run checks the daemon's report against.
public struct GrantSummary: Sendable, Equatable {
    /// Every grant ever created (sign-ins and minted).
    public var grants: Int
    /// Neither revoked nor past their refresh lifetime.
    public var active: Int
    public var revoked: Int
    public var expired: Int
    /// Grants revoked because a rotated refresh token was presented again outside the grace period.
    public var reuseRevocations: Int
    /// Of those, the ones whose successor token was presented too: a second holder refreshed the
    /// grant with a stale token (two clients refreshed one grant). See `RefreshChainWatch`.
    public var reuseBySecondRefresher: Int
    /// Of those, the ones whose successor was never presented: the rotation's answer was lost (a crash).
    public var reuseAfterLostAnswer: Int
    /// Token requests that arrived while another of the same grant chain was being answered.
    public var overlappingRefreshes: Int

    public init(
        grants: Int, active: Int, revoked: Int, expired: Int, reuseRevocations: Int,
        reuseBySecondRefresher: Int = 0, reuseAfterLostAnswer: Int = 0, overlappingRefreshes: Int = 0
    ) {
        self.grants = grants
        self.active = active
        self.revoked = revoked
        self.expired = expired
        self.reuseRevocations = reuseRevocations
        self.reuseBySecondRefresher = reuseBySecondRefresher
        self.reuseAfterLostAnswer = reuseAfterLostAnswer
        self.overlappingRefreshes = overlappingRefreshes
    }

    var json: String {
        JSONText.object([
            "grants": "\(grants)", "active": "\(active)", "revoked": "\(revoked)", "expired": "\(expired)",
            "reuse_revocations": "\(reuseRevocations)", "reuse_by_second_refresher": "\(reuseBySecondRefresher)",
            "reuse_after_lost_answer": "\(reuseAfterLostAnswer)", "overlapping_refreshes": "\(overlappingRefreshes)",
        ])
    }
}

/// Errors of the control operations (and of starting the emulator).
public enum EmulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case unknownUser(String)
    case unknownLibrary(String)
    case unknownClient(String)
    case clientIssuesNoRefreshTokens(String)
    case invalidArgument(String)
    case failedToStart(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): "invalid emulator configuration: \(message)"
        case .unknownUser(let id): "unknown user \(id)"
        case .unknownLibrary(let id): "unknown library \(id)"
        case .unknownClient(let id): "unknown client \(id)"
        case .clientIssuesNoRefreshTokens(let id): "client \(id) is not allowed refresh tokens"
        case .invalidArgument(let message): message
        case .failedToStart(let message): "the emulator could not start: \(message)"
        }
    }

    /// The short machine-readable code used in control API error answers.
    var code: String {
        switch self {
        case .invalidConfiguration: "invalid_configuration"
        case .unknownUser: "unknown_user"
        case .unknownLibrary: "unknown_library"
        case .unknownClient: "unknown_client"
        case .clientIssuesNoRefreshTokens: "no_refresh_tokens"
        case .invalidArgument: "invalid_argument"
        case .failedToStart: "failed_to_start"
        }
    }
}

extension EmulatorState {
    /// The canonical id of a user named by id or email, or `unknownUser`.
    func requireUser(_ name: String) throws(EmulatorError) -> String {
        guard let id = directory.userID(named: name) else { throw .unknownUser(name) }
        return id
    }

    /// Creates grants directly, as if the user had signed in `count` times; returns the refresh tokens.
    mutating func mintGrants(user: String, clientID: String, keys: [TokenKey]) throws(EmulatorError) -> [TokenKey] {
        let userID = try requireUser(user)
        guard let client = directory.client(clientID) else { throw .unknownClient(clientID) }
        guard client.issueRefreshTokens else { throw .clientIssuesNoRefreshTokens(clientID) }
        let expiry = now + Double(settings.refreshTokenLifetime)
        ledger.reserveCapacity(additionalGrants: keys.count)
        for key in keys {
            _ = ledger.createGrant(
                userID: userID, clientID: clientID, withRefreshToken: true, refreshToken: key, refreshExpiresAt: expiry)
        }
        issued?.recordRefreshTokens(keys)
        return keys
    }

    func inspect(refreshToken text: String) -> RefreshTokenInspection {
        guard let key = TokenKey(text: text), let record = ledger.refreshTokenRecord(key) else {
            return RefreshTokenInspection(state: .unknown, user: nil, clientID: nil)
        }
        let grant = ledger.grant(record.grant)
        let state: RefreshTokenInspection.State =
            if grant.isRevoked { .revoked }
            else if now >= grant.refreshExpiresAt { .expired }
            else if record.rotatedAt != nil { .rotated }
            else { .active }
        return RefreshTokenInspection(state: state, user: grant.userID, clientID: grant.clientID)
    }

    /// The grants counted by how they stand now.
    func grantSummary() -> GrantSummary {
        let reuse = chainWatch.classifyReuse(in: ledger)
        var summary = GrantSummary(
            grants: ledger.grants.count, active: 0, revoked: 0, expired: 0, reuseRevocations: reuseRevocations,
            reuseBySecondRefresher: reuse.secondRefresher, reuseAfterLostAnswer: reuse.lostAnswer,
            overlappingRefreshes: chainWatch.overlappingRefreshes)
        for grant in ledger.grants {
            if grant.isRevoked { summary.revoked += 1 } else if now >= grant.refreshExpiresAt { summary.expired += 1 } else { summary.active += 1 }
        }
        return summary
    }

    /// Revokes the grant a refresh token belongs to; false when the token is unknown.
    mutating func revokeGrant(refreshToken text: String) -> Bool {
        guard let key = TokenKey(text: text), let record = ledger.refreshTokenRecord(key) else { return false }
        ledger.revoke(grant: record.grant)
        return true
    }

    /// Revokes every grant of the user and refuses their sign-ins until restored.
    mutating func revokeUser(_ name: String) throws(EmulatorError) {
        let id = try requireUser(name)
        directory.setEnabled(false, userID: id)
        ledger.revokeAll(ofUser: id)
    }

    /// Lets a revoked user sign in again (their old grants stay revoked).
    mutating func restoreUser(_ name: String) throws(EmulatorError) {
        let id = try requireUser(name)
        directory.setEnabled(true, userID: id)
    }

    mutating func setNRTAdmin(_ member: Bool, user name: String, library: String) throws(EmulatorError) {
        let id = try requireUser(name)
        guard directory.library(library) != nil else { throw .unknownLibrary(library) }
        _ = member
            ? directory.addNRTAdmin(userID: id, library: library)
            : directory.removeNRTAdmin(userID: id, library: library)
    }
}
