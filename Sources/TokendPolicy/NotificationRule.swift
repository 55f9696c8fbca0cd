import Foundation

/// What a notification is about: a grant that needs a person, one that works again, or a refresh
/// token about to run out.
public enum NotificationEvent: String, Sendable, Codable, CaseIterable {
    /// The grant (or the organisation) changed into a status that needs a person.
    case problem
    /// The grant (or the organisation) works again after a problem.
    case recovery
    /// The refresh token expires soon: someone must authorise again before then.
    case refreshTokenExpiring = "refresh_token_expiring"
}

/// Who a notification names: one grant, or a whole organisation (its client id or secret refused).
public enum NotificationSubject: Sendable, Equatable, Hashable {
    case grant(GrantKey)
    case organisation(String)

    public var organisation: String {
        switch self {
        case .grant(let key): key.organisation
        case .organisation(let name): name
        }
    }

    /// `library`, `user` or `organisation` (`TOKEND_KIND`).
    public var kind: String {
        switch self {
        case .grant(let key): key.kind.rawValue
        case .organisation: "organisation"
        }
    }

    /// The library id, the user id, or the organisation's name (`TOKEND_ID`).
    public var id: String {
        switch self {
        case .grant(let key): key.subject
        case .organisation(let name): name
        }
    }
}

/// One notification the rule asks for: about whom, what, and the topic that suppresses repeats.
public struct NotificationCause: Sendable, Equatable {
    public var subject: NotificationSubject
    public var event: NotificationEvent
    /// What repeats of are suppressed within `repeat_after_minutes`: the new status, or the event
    /// for a recovery or warning (a flapping grant is announced once per interval per status).
    public var topic: String
    /// A short sentence for `TOKEND_REASON`: what happened and what a person should do.
    public var reason: String
}

/// Which status changes are announced, to whom and why: a pure function of the change.
public enum NotificationRule {
    /// The statuses that need a person, and so are announced when a grant changes into them.
    public static let problemStatuses: Set<GrantStatus> = [.needsReauth, .clientError, .notNrtadmin, .expired]

    /// The notification a change of `key` from `previous` to `current` asks for, if any.
    /// `refreshTokenWarning`: the refresh recorded a refresh-token expiry warning.
    ///
    /// A `client_error` (and a recovery from it) is the organisation's, not the grant's: its client id
    /// or secret was refused, so one notification per organisation is enough, not one per grant.
    public static func decide(
        key: GrantKey, previous: GrantStatus?, current: GrantStatus, refreshTokenWarning: Bool = false
    ) -> NotificationCause? {
        if previous != current, problemStatuses.contains(current) {
            let subject: NotificationSubject = current == .clientError ? .organisation(key.organisation) : .grant(key)
            return NotificationCause(subject: subject, event: .problem, topic: current.rawValue, reason: problemReason(current))
        }
        if current == .authorized, let previous, previous != current, problemStatuses.contains(previous) {
            let subject: NotificationSubject = previous == .clientError ? .organisation(key.organisation) : .grant(key)
            return NotificationCause(
                subject: subject, event: .recovery, topic: NotificationEvent.recovery.rawValue,
                reason: "works again after \(previous.rawValue)")
        }
        if refreshTokenWarning, current == .authorized {
            return NotificationCause(
                subject: .grant(key), event: .refreshTokenExpiring, topic: NotificationEvent.refreshTokenExpiring.rawValue,
                reason: "the refresh token expires soon: authorise again before then")
        }
        return nil
    }

    /// Whether a notification of the same subject and topic, last announced at `lastAnnounced`,
    /// is a repeat to suppress at `now` (less than `repeatAfter` ago).
    public static func isRepeat(lastAnnounced: Date?, now: Date, repeatAfter: TimeInterval) -> Bool {
        guard let lastAnnounced else { return false }
        return now.timeIntervalSince(lastAnnounced) < repeatAfter && now >= lastAnnounced
    }

    static func problemReason(_ status: GrantStatus) -> String {
        switch status {
        case .needsReauth: "the refresh token was refused: a person must authorise again"
        case .clientError: GrantAdvice.clientRefused
        case .notNrtadmin: "the authoriser is no longer an NRTADMIN of the library: an NRTADMIN must authorise it again"
        case .expired: "the access token ran out while refreshing kept failing: check that iManage can be reached"
        default: status.rawValue
        }
    }

    /// Exponential backoff for a failed delivery: `initial` doubled per earlier failure, at most `maximum`.
    public static func retryDelay(afterFailures failures: Int, initial: TimeInterval, maximum: TimeInterval) -> TimeInterval {
        guard failures > 0 else { return 0 }
        let exponent = Double(min(failures - 1, 40))
        return min(maximum, initial * pow(2, exponent))
    }
}
