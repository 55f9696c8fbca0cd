import Foundation
import IManageClient
import TokendPolicy
import TokendStore

/// Where and as whom one organisation's grants are refreshed.
public struct RefreshTarget: Sendable {
    public var tokenURL: URL
    public var credentials: ClientCredentials
    /// How a library grant's authoriser is checked to be of the organisation's customer and still NRTADMIN.
    public var nrtadminCheck: NrtadminCheckTarget?

    public init(tokenURL: URL, credentials: ClientCredentials, nrtadminCheck: NrtadminCheckTarget? = nil) {
        self.tokenURL = tokenURL
        self.credentials = credentials
        self.nrtadminCheck = nrtadminCheck
    }
}

/// Where the periodic NRTADMIN check of one organisation asks.
public struct NrtadminCheckTarget: Sendable {
    public var organisation: String
    /// The organisation's `customer_id`; without it, the customer its first authorisation pinned.
    public var configuredCustomerID: String?
    /// `GET /api`: the customer the grant's token belongs to.
    public var discoveryURL: URL
    /// The NRTADMIN members URL of a library, from the customer id and library id.
    public var membersURL: @Sendable (_ customerID: String, _ library: String) -> URL

    public init(
        organisation: String, configuredCustomerID: String?, discoveryURL: URL,
        membersURL: @escaping @Sendable (_ customerID: String, _ library: String) -> URL
    ) {
        self.organisation = organisation
        self.configuredCustomerID = configuredCustomerID
        self.discoveryURL = discoveryURL
        self.membersURL = membersURL
    }
}

/// What one refresh attempt came to.
public struct RefreshAttempt: Sendable {
    /// Another live process holds this grant's refresh, or the grant went away: nothing was sent.
    public var skipped = false
    public var transition: StatusTransition?
    /// When the grant should be looked at next (`nil`: not until a person acts).
    public var nextRefreshAt: Date?
    public var failure: RefreshFailure?
    /// The refresh took over a claim left by a process that stopped mid-refresh.
    public var followedInterruptedRefresh = false
    /// Set when the refresh token has just entered its expiry warning window.
    public var refreshTokenWarning: String?
}

/// Refreshes one grant: claims it durably before the request, asks iManage, and writes the
/// outcome (tokens, expiries, status, next refresh, event) in one transaction, by the policy.
public struct GrantRefresher: Sendable {
    public let store: any GrantStore
    public let client: IManageHTTPClient
    public let policy: RefreshPolicy
    /// The rules of a grant's life: what each answer leads to.
    public var lifecycle: GrantLifecycle { GrantLifecycle(policy: policy) }
    /// This process's name on its claims ("daemon:PID:START" or "cli:PID").
    public let owner: String
    /// How long a claim is honoured before it is presumed abandoned: longer than any request.
    public var claimLease: TimeInterval { lifecycle.claimLease }
    let now: @Sendable () -> Date
    let unitRandom: @Sendable () -> Double
    let ownerIsGone: @Sendable (String) -> Bool

    public init(
        store: any GrantStore, client: IManageHTTPClient, policy: RefreshPolicy, owner: String,
        now: @escaping @Sendable () -> Date = { Date() },
        unitRandom: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        ownerIsGone: @escaping @Sendable (String) -> Bool = { _ in false }
    ) {
        self.store = store
        self.client = client
        self.policy = policy
        self.owner = owner
        self.now = now
        self.unitRandom = unitRandom
        self.ownerIsGone = ownerIsGone
    }

    public func refresh(grantID: Int64, at target: RefreshTarget) async throws -> RefreshAttempt {
        guard let claim = try await store.claimRefresh(
            id: grantID, owner: owner, now: now(), lease: claimLease, ownerIsGone: ownerIsGone)
        else { return RefreshAttempt(skipped: true) }

        let answer = await client.refresh(
            tokenURL: target.tokenURL, credentials: target.credentials, refreshToken: claim.refreshToken,
            organisation: claim.record.key.organisation)
        var update = lifecycle.update(after: answer, for: claim, at: now(), unitRandom: unitRandom())
        if case .success(let tokens) = answer {
            await checkNrtadmin(of: claim.record, with: tokens.accessToken, at: target, into: &update)
        }
        do {
            let transition = try await store.apply(update, toGrant: grantID, claimedBy: owner, now: now())
            return RefreshAttempt(
                transition: transition, nextRefreshAt: update.nextRefreshAt, failure: update.failure,
                followedInterruptedRefresh: claim.abandonedClaim != nil,
                refreshTokenWarning: lifecycle.refreshTokenWarning(of: update, interrupted: claim.abandonedClaim != nil))
        } catch StoreError.claimLost, StoreError.grantNotFound {
            // Re-authorised or revoked while the request was out: the newer state stands.
            return RefreshAttempt(skipped: true)
        }
    }

    /// For a library grant, at its first refresh and then every `nrtadminCheckInterval`: asks who
    /// the new token belongs to and the library's NRTADMIN group (of the organisation's customer,
    /// never the authoriser's), and lets the rule (`NrtadminCheck`, `GrantLifecycle.nrtadminChecked`)
    /// decide: confirmed, stopped as `not_nrtadmin`, or unknown (tried again at the next refresh;
    /// unconfirmed for twice the interval, the grant's token is not served).
    func checkNrtadmin(of record: GrantRecord, with accessToken: String, at target: RefreshTarget, into update: inout GrantUpdate) async {
        let current = now()
        guard let check = target.nrtadminCheck, let authorizer = record.authorizedBy,
              lifecycle.nrtadminCheckIsDue(record, now: current) else { return }
        let verdict: NrtadminVerdict
        let reported = await client.discover(discoveryURL: check.discoveryURL, accessToken: accessToken, organisation: check.organisation)
            .map(\.customerID)
        let pinned = check.configuredCustomerID == nil ? (try? await store.pinnedCustomer(of: check.organisation))??.customerID : nil
        switch NrtadminCheck.customerToAsk(
            reported: reported, configured: check.configuredCustomerID, pinned: pinned, grantCustomer: authorizer.customerID) {
        case .decided(let early):
            verdict = early
        case .ask(let customer):
            let members = await client.groupMembers(
                url: check.membersURL(customer, record.key.subject), accessToken: accessToken, organisation: check.organisation)
            verdict = NrtadminCheck.verdict(members: members.map { $0.map(\.id) }, userID: authorizer.userID)
        }
        lifecycle.nrtadminChecked(verdict, of: record, into: &update, at: current)
    }
}
