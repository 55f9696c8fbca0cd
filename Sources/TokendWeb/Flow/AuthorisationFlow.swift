import Foundation
import IManageClient
import TokendConfig
import TokendPolicy
import TokendStore

/// The calls to iManage behind the callback, each turning a failure into a page a person can
/// act on: exchange the code, find out who signed in, check NRTADMIN membership, store the grant.
struct AuthorisationFlow: Sendable {
    let client: IManageHTTPClient
    let store: GrantStore
    let policy: RefreshPolicy
    let redirectURL: URL

    /// The organisation's client credentials.
    static func credentials(_ organisation: OrganisationConfig) -> ClientCredentials {
        organisation.clientCredentials
    }

    /// Trades the code for tokens.
    func exchange(
        code: String, verifier: String?, organisation: OrganisationConfig, retry: RetryLink?
    ) async throws(WebFailure) -> TokenResponse {
        let result = await client.exchangeCode(
            tokenURL: organisation.tokenURL, credentials: Self.credentials(organisation), code: code,
            redirectURI: redirectURL.absoluteString, codeVerifier: verifier)
        switch result {
        case .success(let tokens): return tokens
        case .failure(let failure): throw WebFailure.fromIManage(failure, organisation: organisation.name, retry: retry)
        }
    }

    /// Who signed in (`GET /api`).
    func identify(
        _ tokens: TokenResponse, organisation: OrganisationConfig, retry: RetryLink?
    ) async throws(WebFailure) -> IManageIdentity {
        switch await client.discover(discoveryURL: organisation.discoveryURL, accessToken: tokens.accessToken) {
        case .success(let identity): return identity
        case .failure(let failure):
            // The code was good: a refused API call is iManage's trouble, not a dead grant.
            var passing = failure
            if failure.failureClass != .transient { passing.failureClass = .transient }
            throw WebFailure.fromIManage(passing, organisation: organisation.name, retry: retry)
        }
    }

    /// Whether `identity` is in the NRTADMIN group of `library`, asked with their own token.
    func isNrtadmin(
        _ identity: IManageIdentity, library: String, accessToken: String, organisation: OrganisationConfig,
        retry: RetryLink?
    ) async throws(WebFailure) -> Bool {
        let url = organisation.nrtadminMembersURL(customerID: identity.customerID, library: library)
        switch await client.groupMembers(url: url, accessToken: accessToken) {
        case .success(let members):
            return members.contains { $0.id.caseInsensitiveCompare(identity.userID) == .orderedSame }
        case .failure(let failure) where failure.httpStatus == 403 || failure.httpStatus == 404:
            return false
        case .failure(var failure):
            failure.failureClass = .transient
            throw WebFailure.fromIManage(failure, organisation: organisation.name, retry: retry)
        }
    }

    /// The libraries of the customer where `identity` is NRTADMIN, in iManage's order.
    func nrtadminLibraries(
        _ identity: IManageIdentity, accessToken: String, organisation: OrganisationConfig, retry: RetryLink?
    ) async throws(WebFailure) -> [String] {
        let libraries: [IManageLibrary]
        switch await client.libraries(url: organisation.librariesURL(customerID: identity.customerID), accessToken: accessToken) {
        case .success(let found): libraries = found
        case .failure(var failure):
            failure.failureClass = .transient
            throw WebFailure.fromIManage(failure, organisation: organisation.name, retry: retry)
        }
        var found: [String] = []
        for library in libraries {
            if try await isNrtadmin(identity, library: library.id, accessToken: accessToken, organisation: organisation, retry: retry) {
                found.append(library.id)
            }
        }
        return found
    }

    /// Stores the grant (replacing any earlier one of the same library or user) and returns it.
    func save(
        _ key: GrantKey, identity: IManageIdentity, tokens: TokenResponse, now: Date, nrtadminChecked: Bool,
        message: String, retry: RetryLink?
    ) async throws(WebFailure) -> GrantRecord {
        guard let refreshToken = tokens.refreshToken, !refreshToken.isEmpty else { throw WebFailure.noRefreshToken(retry: retry) }
        let access = IssuedToken(token: tokens.accessToken, issuedAt: now, expiresAt: now.addingTimeInterval(tokens.expiresIn))
        let authorisation = NewAuthorisation(
            key: key,
            identity: AuthorisedIdentity(
                userID: identity.userID, email: identity.email ?? "", name: identity.name ?? identity.userID,
                customerID: identity.customerID),
            refreshToken: IssuedToken(token: refreshToken, issuedAt: now, expiresAt: policy.refreshTokenExpiry(issuedAt: now)),
            accessToken: access,
            nextRefreshAt: policy.nextRefresh(issuedAt: now, expiresAt: access.expiresAt, unitRandom: .random(in: 0..<1)),
            nrtadminCheckedAt: nrtadminChecked ? now : nil,
            message: message)
        do {
            try await store.saveAuthorisation(authorisation, now: now)
            guard let record = try store.record(for: key) else { throw WebFailure.storeFailed(retry: retry) }
            return record
        } catch let failure as WebFailure {
            throw failure
        } catch {
            var failure = WebFailure.storeFailed(retry: retry)
            failure.reason += ": \(error)"
            throw failure
        }
    }
}
