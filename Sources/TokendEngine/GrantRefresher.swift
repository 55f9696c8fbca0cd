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
    public let store: SQLiteGrantStore
    public let client: IManageHTTPClient
    public let policy: RefreshPolicy
    /// This process's name on its claims ("daemon:PID:START" or "cli:PID").
    public let owner: String
    /// How long a claim is honoured before it is presumed abandoned: longer than any request.
    public var claimLease: TimeInterval { policy.settings.requestTimeout + policy.settings.connectTimeout + 30 }
    let now: @Sendable () -> Date
    let unitRandom: @Sendable () -> Double
    let ownerIsGone: @Sendable (String) -> Bool

    public init(
        store: SQLiteGrantStore, client: IManageHTTPClient, policy: RefreshPolicy, owner: String,
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
        var update = outcome(of: answer, for: claim, at: now())
        if case .success(let tokens) = answer {
            await checkNrtadmin(of: claim.record, with: tokens.accessToken, at: target, into: &update)
        }
        do {
            let transition = try await store.apply(update, toGrant: grantID, claimedBy: owner, now: now())
            return RefreshAttempt(
                transition: transition, nextRefreshAt: update.nextRefreshAt, failure: update.failure,
                followedInterruptedRefresh: claim.abandonedClaim != nil,
                refreshTokenWarning: update.succeeded && update.status == .authorized && update.alwaysRecordEvent && claim.abandonedClaim == nil
                    ? update.message : nil)
        } catch StoreError.claimLost, StoreError.grantNotFound {
            // Re-authorised or revoked while the request was out: the newer state stands.
            return RefreshAttempt(skipped: true)
        }
    }

    /// For a library grant, checks after its first refresh and then every `nrtadminCheckInterval`
    /// that its token is still of the organisation's iManage customer and its authoriser still an
    /// NRTADMIN of the library (asked of the organisation's customer, never the authoriser's). If
    /// not, or iManage refuses to list the group (403, 404), the grant stops as `not_nrtadmin`.
    /// A check that fails for a passing reason is tried again at the next refresh; after twice the
    /// interval without a confirmation the grant's effective status is `not_nrtadmin` (StatusRules)
    /// and its token is not served until a check succeeds.
    func checkNrtadmin(of record: GrantRecord, with accessToken: String, at target: RefreshTarget, into update: inout GrantUpdate) async {
        guard record.key.kind == .library, let check = target.nrtadminCheck, let authorizer = record.authorizedBy else { return }
        let current = now()
        if let checked = record.nrtadminCheckedAt,
           current.timeIntervalSince(checked) < policy.settings.nrtadminCheckInterval { return }
        func stop(_ message: String) {
            update.status = .notNrtadmin
            update.nextRefreshAt = nil
            update.nrtadminCheckedAt = current
            update.message = message
        }
        let reported: String
        switch await client.discover(discoveryURL: check.discoveryURL, accessToken: accessToken, organisation: check.organisation) {
        case .success(let identity): reported = identity.customerID
        case .failure: return
        }
        let pinned = check.configuredCustomerID == nil ? (try? store.pinnedCustomer(of: check.organisation))??.customerID : nil
        let customer: String
        switch CustomerRule.decide(reported: reported, configured: check.configuredCustomerID, pinned: pinned) {
        case .matches: customer = reported
        case .pins: customer = authorizer.customerID  // unpinned (grants of several customers): the grant's own
        case .refused(let expected):
            return stop("the token of library \(record.key.subject) belongs to iManage customer \(reported), but this organisation "
                + "is customer \(expected): an NRTADMIN of this firm's library must authorise it")
        }
        let answer = await client.groupMembers(
            url: check.membersURL(customer, record.key.subject), accessToken: accessToken, organisation: check.organisation)
        switch NrtadminMembership.decide(answer, userID: authorizer.userID) {
        case .member:
            update.nrtadminCheckedAt = current
        case .notMember:
            stop("\(authoriser.name) (\(authoriser.userID)) is no longer an NRTADMIN of library "
                + "\(record.key.subject): an NRTADMIN of it must authorise it again")
        case .unknown:
            break
        }
    }

    /// The update an answer of the token endpoint leads to, by the refresh policy.
    func outcome(of answer: Result<TokenResponse, RefreshFailure>, for claim: ClaimedRefresh, at now: Date) -> GrantUpdate {
        let record = claim.record
        let interrupted = claim.abandonedClaim != nil
        switch answer {
        case .success(let tokens):
            let access = IssuedToken(token: tokens.accessToken, issuedAt: now, expiresAt: now.addingTimeInterval(tokens.expiresIn))
            var update = GrantUpdate(
                status: .authorized,
                message: interrupted
                    ? "refreshed after an interrupted refresh whose outcome was uncertain"
                    : (record.status == .authorized ? "refreshed" : "refreshed again after \(record.status.rawValue)"),
                nextRefreshAt: policy.nextRefresh(issuedAt: now, expiresAt: access.expiresAt, unitRandom: unitRandom()))
            update.alwaysRecordEvent = interrupted
            update.succeeded = true
            update.newAccessToken = access
            update.newRefreshToken = tokens.refreshToken.map {
                IssuedToken(token: $0, issuedAt: now, expiresAt: policy.refreshTokenExpiry(issuedAt: now))
            }
            // Inside the warning window before the refresh token's expiry: say so at the first refresh
            // after an authorisation, then once a day, as an event and a warning. Days are counted from
            // when the stored refresh token was issued, not from a UTC midnight, so a grant authorised
            // at 23:59 is not warned about again at 00:01.
            let refreshExpiry = update.newRefreshToken?.expiresAt ?? record.refreshTokenExpiresAt
            let firstSinceAuthorization = record.lastAttemptAt == nil
            let dayOrigin = record.refreshTokenIssuedAt ?? Date(timeIntervalSince1970: 0)
            let day = { (moment: Date) in (moment.timeIntervalSince(dayOrigin) / 86_400).rounded(.down) }
            let newDay = day(now) != day(record.lastRefreshAt ?? .distantPast)
            if let refreshExpiry, policy.refreshTokenNeedsAttention(expiresAt: refreshExpiry, now: now),
               firstSinceAuthorization || newDay {
                update.alwaysRecordEvent = true
                update.refreshTokenWarning = true
                update.message = "the refresh token expires at \(refreshExpiry.formatted(.iso8601)): authorise again before then"
            }
            return update

        case .failure(let failure):
            switch failure.failureClass {
            case .transient:
                let delay = policy.retryDelay(
                    afterFailures: record.consecutiveFailures + 1, retryAfter: failure.retryAfter, unitRandom: unitRandom())
                var next = now.addingTimeInterval(delay)
                // Look again when the access token runs out, if that comes first, so the status turns `expired` on time.
                if let expiry = record.accessExpiresAt, expiry > now, expiry < next {
                    next = max(expiry, now.addingTimeInterval(policy.settings.minimumInterval))
                }
                let status = policy.passingFailureStatus(accessExpiresAt: record.accessExpiresAt, now: now)
                var update = GrantUpdate(
                    status: status, message: "refresh failed, retrying: \(failure.description)", nextRefreshAt: next)
                update.failure = failure
                return update
            case .grantDead:
                // A restored backup is named first: its spent token explains an interrupted refresh too.
                let restored = claim.restoredBackupTakenAt.map { "restored from a backup taken at \($0.formatted(.iso8601))" }
                let message = if let restored {
                    "\(restored); the refresh token had probably been rotated since: authorise again"
                } else if interrupted {
                    "the refresh token was refused after an interrupted refresh: a rotation was probably lost "
                        + "(iManage replaced the refresh token but the new one was never saved); authorise again"
                } else {
                    "the refresh token was refused: authorise again"
                }
                var update = GrantUpdate(status: .needsReauth, message: message, nextRefreshAt: nil)
                let detail = if let restored { "\(restored), rotation probably lost since: \(failure.detail)" }
                    else if interrupted { "rotation probably lost: \(failure.detail)" } else { failure.detail }
                update.failure = RefreshFailure(
                    failure.failureClass, httpStatus: failure.httpStatus, oauthError: failure.oauthError,
                    detail: detail, responseExcerpt: failure.responseExcerpt)
                return update
            case .clientRefused:
                let delay = policy.retryDelay(
                    afterFailures: record.consecutiveFailures + 1, retryAfter: failure.retryAfter, unitRandom: unitRandom())
                var update = GrantUpdate(
                    status: .clientError,
                    message: "the organisation's client id or secret was refused: check client_id and client_secret_file",
                    nextRefreshAt: now.addingTimeInterval(delay))
                update.failure = failure
                return update
            }
        }
    }
}
