import Foundation
import Logging
import TokendPolicy
import TokendStore

/// What the engine did with a refresh asked for by a person or a program.
public enum RefreshRequestOutcome: Sendable, Equatable {
    /// The grant will be refreshed at `at`: now, or later when the per-grant minimum interval
    /// since its last attempt has not passed (`deferred`). Its backoff starts over.
    case scheduled(grantID: Int64, at: Date, deferred: Bool)
    /// Refreshing would not help: the grant waits for a person (or its organisation is off).
    case refused(status: GrantStatus, reason: String)
    /// No grant of that library or user.
    case notFound
}

extension RefreshEngine {
    /// Refreshes `key` as soon as the policy allows: at once, or when `minimum_interval_seconds`
    /// since the grant's last attempt has passed. The backoff of a retrying grant starts over.
    /// Grants that wait for a person (`needs_reauth`, `not_nrtadmin`, `unauthorized`) or belong to
    /// a disabled organisation are refused with the reason, since a refresh cannot succeed.
    public func requestRefresh(_ key: GrantKey) async throws -> RefreshRequestOutcome {
        guard let record = try await store.record(for: key) else { return .notFound }
        guard let organisation = configuration.organisation(named: key.organisation), organisation.enabled else {
            return .refused(status: .disabled, reason: "organisation \(key.organisation) is disabled or not in the configuration")
        }
        if GrantAdvice.waitsForAPerson(record.status) {
            return .refused(status: record.status, reason: "\(record.status.rawValue): a person must authorise it again; refreshing cannot help")
        }
        let current = now()
        let policy = RefreshPolicy(settings: configuration.refresh)
        let lastContact = [record.lastAttemptAt, record.lastRefreshAt].compactMap { $0 }.max()
        let at = max(current, policy.earliestAttempt(after: lastContact))
        guard try await store.requestRefresh(ofGrant: record.id, at: at, now: current) else { return .notFound }
        requestedRefreshes.withLock { $0[record.id] = at }
        scheduler.schedule(record.id, at: at)
        logger.info(
            "\(key.organisation) \(key.kind.rawValue) \(key.subject): refresh requested\(at > current ? ", at \(at.formatted(.iso8601)) (minimum interval)" : "")",
            metadata: GrantLogMetadata.fields(key, status: record.status))
        return .scheduled(grantID: record.id, at: at, deferred: at > current)
    }

    /// Removes the grant of `key` and its tokens, records the event and logs it at `notice`: an
    /// administrator's own act, not a failure (its new status, `unauthorized`, would log as one). Its timer entry
    /// finds no grant when it fires and is dropped; a refresh in flight has its outcome discarded.
    @discardableResult
    public func revoke(_ key: GrantKey, message: String) async throws -> StatusTransition? {
        guard let transition = try await store.remove(key, message: message, now: now()) else { return nil }
        log(transition, reason: message, level: .notice)
        return transition
    }

    /// Schedules a grant stored by another process (`import`) at its stored next refresh, as a
    /// SIGHUP would. Returns when it will be refreshed, or `nil` when it is not to be refreshed.
    @discardableResult
    public func scheduleStored(_ key: GrantKey) async throws -> Date? {
        store.notificationsMayBeWaiting()  // that process may have queued a notification (a recovery)
        guard let record = try await store.record(for: key), record.status.isScheduled,
              configuration.organisation(named: key.organisation)?.enabled == true else { return nil }
        let at = max(record.nextRefreshAt ?? now(), now())
        scheduler.schedule(record.id, at: at)
        return at
    }
}
