import Foundation

/// The NRTADMIN rule for a library grant, in one place for every caller (the periodic check after a
/// refresh, admission by `import` and the web callback, the Tracker's list of libraries): the token
/// must be of the organisation's iManage customer, and the authoriser in the NRTADMIN group of the
/// library of that customer. It fails closed: iManage refusing to list the group (403) or not
/// knowing the library (404) means "not a member"; only a passing failure leaves it unknown, and an
/// unknown never confirms (admission refuses; a stored grant is not served once unconfirmed for twice
/// `nrtadmin_check_hours`, see ``GrantLifecycle/effectiveStatus(of:organisationEnabled:now:)``).
public enum NrtadminVerdict: Sendable, Equatable {
    /// Of the organisation's customer and in the group: confirmed.
    case member
    /// The token is of another iManage customer than the organisation's.
    case otherCustomer(reported: String, expected: String)
    /// Not in the group, or iManage refused to list it.
    case notMember
    /// Could not be told for a passing reason (discovery or the group failed): nothing is confirmed.
    case unknown(RefreshFailure)
}

public enum NrtadminCheck {
    /// What step one comes to.
    public enum Step: Sendable, Equatable {
        /// Ask the NRTADMIN group of this customer's library.
        case ask(customerID: String)
        /// Nothing to ask: this is the verdict.
        case decided(NrtadminVerdict)
    }

    /// Step one, on what `GET /api` said: whose NRTADMIN group to ask (the organisation's customer,
    /// configured or pinned; unpinned, the grant's own), or the verdict already.
    /// - Parameter grantCustomer: the customer the grant was authorised as (for a new one, `reported`).
    public static func customerToAsk(
        reported: Result<String, RefreshFailure>, configured: String?, pinned: String?, grantCustomer: String
    ) -> Step {
        let customer: String
        switch reported {
        case .success(let found): customer = found
        case .failure(let failure): return .decided(.unknown(failure))
        }
        switch CustomerRule.decide(reported: customer, configured: configured, pinned: pinned) {
        case .matches: return .ask(customerID: customer)
        case .pins: return .ask(customerID: grantCustomer)
        case .refused(let expected): return .decided(.otherCustomer(reported: customer, expected: expected))
        }
    }

    /// Step two, on the group's answer (member ids): whether `userID` is in it, ignoring case.
    public static func verdict(members: Result<[String], RefreshFailure>, userID: String) -> NrtadminVerdict {
        switch members {
        case .success(let ids):
            ids.contains { $0.caseInsensitiveCompare(userID) == .orderedSame } ? .member : .notMember
        case .failure(let failure) where failure.httpStatus == 403 || failure.httpStatus == 404:
            .notMember
        case .failure(let failure):
            .unknown(failure)
        }
    }
}

extension GrantLifecycle {
    /// Whether a library grant's NRTADMIN membership is to be checked at this refresh: at its first
    /// refresh, then every `nrtadmin_check_hours`.
    public func nrtadminCheckIsDue(_ record: GrantRecord, now: Date) -> Bool {
        guard record.key.kind == .library, record.authorizedBy != nil else { return false }
        guard let checked = record.nrtadminCheckedAt else { return true }
        return now.timeIntervalSince(checked) >= settings.nrtadminCheckInterval
    }

    /// What the periodic check's verdict changes in the update of a successful refresh: confirmed,
    /// the check time moves on; another customer or not a member, the grant stops as `not_nrtadmin`
    /// with what to do next; unknown, nothing (tried again at the next refresh).
    public func nrtadminChecked(_ verdict: NrtadminVerdict, of record: GrantRecord, into update: inout GrantUpdate, at now: Date) {
        func stop(_ message: String) {
            update.status = .notNrtadmin
            update.nextRefreshAt = nil
            update.nrtadminCheckedAt = now
            update.message = message
        }
        switch verdict {
        case .member:
            update.nrtadminCheckedAt = now
        case let .otherCustomer(reported, expected):
            stop(GrantAdvice.libraryOfOtherCustomer(record.key.subject, reported: reported, expected: expected))
        case .notMember:
            let who = record.authorizedBy.map { "\($0.name) (\($0.userID))" } ?? "the authoriser"
            stop(GrantAdvice.noLongerNrtadmin(who, library: record.key.subject))
        case .unknown:
            break
        }
    }
}
