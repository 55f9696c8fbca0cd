import Foundation
import IManageClient
import TokendConfig
import TokendPolicy
import TokendStore

/// Why a new grant was not admitted. Nothing was stored; each case says what to do next.
public enum AdmissionFailure: Error, Sendable, CustomStringConvertible {
    /// `GET /api` (who the token belongs to) failed.
    case discoveryFailed(RefreshFailure)
    /// The person or token belongs to another iManage customer than the organisation.
    case otherCustomer(organisation: String, expected: String, reported: String)
    /// The person is not in the NRTADMIN group of the library (iManage said so, or refused to list it).
    case notNrtadmin(person: String, library: String)
    /// The NRTADMIN group could not be read for a passing reason.
    case nrtadminCheckFailed(library: String, RefreshFailure)
    /// The customer's libraries could not be listed.
    case librariesFailed(RefreshFailure)
    /// The token belongs to another user than the one named.
    case otherUser(wanted: String, actual: String)
    /// iManage issued no refresh token (Control Center's *Allow Refresh Token* is off).
    case noRefreshToken
    /// The database refused the write.
    case storeFailed(String)

    public var description: String {
        switch self {
        case .discoveryFailed(let failure): "discovery (who the token belongs to) failed: \(failure)"
        case let .otherCustomer(organisation, expected, reported):
            CustomerRule.mismatchMessage(organisation: organisation, expected: expected, reported: reported)
        case let .notNrtadmin(person, library):
            "\(person) is not an NRTADMIN of library \(library): it must be authorised by one of its NRTADMINs"
        case let .nrtadminCheckFailed(library, failure): "could not check the NRTADMIN group of library \(library): \(failure)"
        case .librariesFailed(let failure): "could not list the libraries: \(failure)"
        case let .otherUser(wanted, actual): "the token belongs to \(actual), not to \(wanted): nothing was stored"
        case .noRefreshToken:
            "iManage issued no refresh token: turn on Allow Refresh Token for the application in iManage Control Center"
        case .storeFailed(let reason): "the grant could not be stored: \(reason)"
        }
    }
}

/// Admits a new grant, the one way for `import` and the web pages: find out who the tokens belong
/// to, check that they are of the organisation's iManage customer (configured, or pinned by the first
/// authorisation), for a library that the person is its NRTADMIN, then store the grant (the customer
/// is bound again inside the write, so racing first authorisations cannot both pin).
public struct GrantAdmission: Sendable {
    public let store: any GrantStore
    public let client: IManageHTTPClient
    public let policy: RefreshPolicy
    /// The rules of a grant's life: the new grant's first refresh and refresh-token lifetime.
    var lifecycle: GrantLifecycle { GrantLifecycle(policy: policy) }

    public init(store: any GrantStore, client: IManageHTTPClient, policy: RefreshPolicy) {
        self.store = store
        self.client = client
        self.policy = policy
    }

    /// What a new grant is for.
    public enum Subject: Sendable, Equatable {
        /// A library, authorised by one of its NRTADMINs.
        case library(String)
        /// A user: `named` (an id or email) must be who the token belongs to; `nil`, whoever signed in.
        case user(named: String?)
    }

    /// The customer the organisation is: its `customer_id`, or the one pinned by its first authorisation.
    public func expectedCustomer(of organisation: OrganisationConfig) async throws(AdmissionFailure) -> String? {
        if let configured = organisation.customerID { return configured }
        do {
            return try await store.pinnedCustomer(of: organisation.name)?.customerID
        } catch {
            throw .storeFailed("\(error)")
        }
    }

    /// Who `accessToken` belongs to (`GET /api`), refused when of another customer.
    public func identify(accessToken: String, organisation: OrganisationConfig) async throws(AdmissionFailure) -> IManageIdentity {
        let identity: IManageIdentity
        switch await client.discover(discoveryURL: organisation.discoveryURL, accessToken: accessToken, organisation: organisation.name) {
        case .success(let found): identity = found
        case .failure(let failure): throw .discoveryFailed(failure)
        }
        let expected = try await expectedCustomer(of: organisation)
        if case .refused(let expected) = CustomerRule.decide(reported: identity.customerID, configured: expected, pinned: nil) {
            throw .otherCustomer(organisation: organisation.name, expected: expected, reported: identity.customerID)
        }
        return identity
    }

    /// Checks that `identity` is in the NRTADMIN group of `library` of the organisation's customer,
    /// by the one NRTADMIN rule (`NrtadminCheck`): 403 and 404 mean no (fail closed); other failures
    /// are passing and say so; nothing is admitted unless confirmed.
    public func checkNrtadmin(
        _ identity: IManageIdentity, library: String, accessToken: String, organisation: OrganisationConfig
    ) async throws(AdmissionFailure) {
        let pinned = organisation.customerID == nil ? try await expectedCustomer(of: organisation) : nil
        let verdict: NrtadminVerdict
        switch NrtadminCheck.customerToAsk(
            reported: .success(identity.customerID), configured: organisation.customerID, pinned: pinned,
            grantCustomer: identity.customerID) {
        case .decided(let early):
            verdict = early
        case .ask(let customer):
            let url = organisation.nrtadminMembersURL(customerID: customer, library: library)
            let members = await client.groupMembers(url: url, accessToken: accessToken, organisation: organisation.name)
            verdict = NrtadminCheck.verdict(members: members.map { $0.map(\.id) }, userID: identity.userID)
        }
        switch verdict {
        case .member: return
        case .notMember: throw .notNrtadmin(person: Self.describe(identity), library: library)
        case let .otherCustomer(reported, expected):
            throw .otherCustomer(organisation: organisation.name, expected: expected, reported: reported)
        case .unknown(let failure): throw .nrtadminCheckFailed(library: library, failure)
        }
    }

    /// The libraries of the organisation's customer in which `identity` is NRTADMIN, in iManage's order.
    public func nrtadminLibraries(
        _ identity: IManageIdentity, accessToken: String, organisation: OrganisationConfig
    ) async throws(AdmissionFailure) -> [String] {
        let customer = try await expectedCustomer(of: organisation) ?? identity.customerID
        let libraries: [IManageLibrary]
        switch await client.libraries(url: organisation.librariesURL(customerID: customer), accessToken: accessToken, organisation: organisation.name) {
        case .success(let found): libraries = found
        case .failure(let failure): throw .librariesFailed(failure)
        }
        var found: [String] = []
        for library in libraries {
            do throws(AdmissionFailure) {
                try await checkNrtadmin(identity, library: library.id, accessToken: accessToken, organisation: organisation)
                found.append(library.id)
            } catch .notNrtadmin {
                continue
            }
        }
        return found
    }

    /// Identifies the tokens' owner, checks customer and (for a library) NRTADMIN membership, and
    /// stores the grant, replacing any earlier one of that library or user.
    ///
    /// - Parameters:
    ///   - presentedRefreshToken: the refresh token given (by `import`), kept when the answer has none.
    ///   - identity: who the tokens belong to, when already asked (the web pages check the person first).
    public func admit(
        _ tokens: TokenResponse, presentedRefreshToken: String? = nil, for subject: Subject,
        of organisation: OrganisationConfig, identity known: IManageIdentity? = nil, message: (IManageIdentity) -> String,
        now: Date = Date()
    ) async throws(AdmissionFailure) -> GrantRecord {
        guard let refreshToken = tokens.refreshToken ?? presentedRefreshToken, !refreshToken.isEmpty else { throw .noRefreshToken }
        let identity: IManageIdentity
        if let known { identity = known } else { identity = try await identify(accessToken: tokens.accessToken, organisation: organisation) }
        let key: GrantKey
        switch subject {
        case .library(let library):
            try await checkNrtadmin(identity, library: library, accessToken: tokens.accessToken, organisation: organisation)
            key = .library(library, of: organisation.name)
        case .user(let named):
            if let named, named.caseInsensitiveCompare(identity.userID) != .orderedSame,
               named.caseInsensitiveCompare(identity.email ?? "") != .orderedSame {
                throw .otherUser(wanted: named, actual: Self.describe(identity))
            }
            key = .user(identity.userID, of: organisation.name)
        }
        let identified = AuthorizedIdentity(
            userID: identity.userID, email: identity.email ?? "", name: identity.name ?? identity.userID,
            customerID: identity.customerID)
        guard let authorization = lifecycle.newAuthorization(
            key: key, identity: identified, tokens: tokens, presentedRefreshToken: refreshToken,
            message: message(identity), configuredCustomerID: organisation.customerID, now: now, unitRandom: .random(in: 0..<1))
        else { throw .noRefreshToken }
        do {
            try await store.saveAuthorization(authorization, now: now)
            guard let record = try await store.record(for: key) else { throw AdmissionFailure.storeFailed("the grant vanished after it was stored") }
            return record
        } catch let failure as AdmissionFailure {
            throw failure
        } catch StoreError.otherCustomer(let organisation, let expected, let reported) {
            throw .otherCustomer(organisation: organisation, expected: expected, reported: reported)
        } catch {
            throw .storeFailed("\(error)")
        }
    }

    /// "Alice Admin (alice@example.com)", or the user id when iManage gave no email.
    public static func describe(_ identity: IManageIdentity) -> String {
        let name = identity.name ?? identity.userID
        guard let email = identity.email, !email.isEmpty else { return "\(name) (\(identity.userID))" }
        return "\(name) (\(email))"
    }
}
