import Foundation
import TokendPolicy
import TokendStore

extension AuthorizedIdentity {
    /// The emulator's demo NRTADMIN of ACTIVE and ARCHIVE, customer 1.
    public static let alice = AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice Admin", customerID: "1")
    public static let bob = AuthorizedIdentity(userID: "BOB", email: "bob@example.com", name: "Bob Baker", customerID: "1")
}

extension NewAuthorization {
    /// An authorisation of `key` by `identity` as a test seeds it: a refresh token issued at `now` that
    /// lives `refreshLife`, and an access token of `accessLife` when `accessToken` is given.
    public static func seeded(
        _ key: GrantKey, by identity: AuthorizedIdentity = .alice, refreshToken: String, refreshLife: TimeInterval = 365 * 86_400,
        accessToken: String? = nil, accessLife: TimeInterval = 1800, nextRefreshAt: Date?, message: String = "authorised",
        now: Date = Date()
    ) -> NewAuthorization {
        NewAuthorization(
            key: key, identity: identity,
            refreshToken: IssuedToken(token: refreshToken, issuedAt: now, expiresAt: now.addingTimeInterval(refreshLife)),
            accessToken: accessToken.map { IssuedToken(token: $0, issuedAt: now, expiresAt: now.addingTimeInterval(accessLife)) },
            nextRefreshAt: nextRefreshAt, message: message)
    }
}

/// Why a seeded grant cannot be read back.
public struct SeedingFailed: Error, CustomStringConvertible {
    public let key: GrantKey
    public var description: String { "the grant \(key) was saved but cannot be read back: check the store" }
}

extension GrantStore {
    /// Saves `authorisation` at `now` and returns its grant's id.
    @discardableResult
    public func seed(_ authorization: NewAuthorization, now: Date = Date()) async throws -> Int64 {
        _ = try await saveAuthorization(authorization, now: now)
        guard let record = try await record(for: authorization.key) else { throw SeedingFailed(key: authorization.key) }
        return record.id
    }
}
