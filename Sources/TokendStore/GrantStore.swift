import Foundation
import TokendPolicy

/// Where grants, their sealed tokens and their history are kept: what the engine, the reports,
/// the web pages and the token API need of a database, whichever database it is.
///
/// `SQLiteGrantStore` is the one-machine implementation; a shared database (PostgreSQL) is another.
/// Every implementation must pass the store contract suite (`Tests/StoreTests/StoreContract*`).
/// The commands open the configured one in one place (`TokendCLI/StoreOpening`); nothing else names it.
/// Reads are `async` because a networked database cannot answer synchronously; SQLite answers
/// at once. A write that returns is durable.
public protocol GrantStore: AnyObject, Sendable {
    // MARK: Reads

    /// The grant of one library or user, without its tokens.
    func record(for key: GrantKey) async throws -> GrantRecord?
    func record(id: Int64) async throws -> GrantRecord?
    /// Every grant, or those of one organisation and kind, ordered by organisation, kind and subject.
    func records(organisation: String?, kind: GrantKind?) async throws -> [GrantRecord]
    /// Every grant's scheduling facts, streamed (a million grants are not held twice).
    func forEachScheduleEntry(_ body: (ScheduleEntry) -> Void) async throws
    /// A grant's decrypted tokens; throws when the store was opened without the key.
    func tokens(for key: GrantKey) async throws -> GrantTokens?
    /// Status changes, oldest first, by the filter (its `limit` keeps the newest).
    func events(_ filter: EventFilter) async throws -> [GrantEvent]
    func pinnedCustomer(of organisation: String) async throws -> PinnedCustomer?
    func pinnedCustomers() async throws -> [PinnedCustomer]
    /// The database is a restored backup and grants still hold a refresh token from before it.
    func grantsUnconfirmedSinceRestore() async throws -> (takenAt: Date, count: Int)?

    // MARK: A grant's life

    /// Stores a grant a person just authorised (or `import` brought in), replacing any earlier
    /// grant of the same key, binding the organisation's customer in the same transaction.
    @discardableResult
    func saveAuthorization(_ authorization: NewAuthorization, now: Date) async throws -> StatusTransition
    /// Marks a refresh as in flight for `owner`, durably, before its request goes out; `nil` when
    /// another live owner holds it. A claim older than `lease`, or of an owner `ownerIsGone` names,
    /// is taken over and reported as `abandonedClaim`.
    func claimRefresh(
        id: Int64, owner: String, now: Date, lease: TimeInterval, ownerIsGone: @escaping @Sendable (String) -> Bool
    ) async throws -> ClaimedRefresh?
    /// Writes the outcome of a refresh in one transaction; throws `claimLost` when the claim is no
    /// longer `owner`'s (a newer outcome stands).
    @discardableResult
    func apply(_ update: GrantUpdate, toGrant id: Int64, claimedBy owner: String?, now: Date) async throws -> StatusTransition
    func setStatus(
        _ status: GrantStatus, ofGrants ids: [Int64], message: String, failure: RefreshFailure?,
        nextRefreshAt: Date?, now: Date
    ) async throws -> [StatusTransition]
    /// Forgets a grant's tokens (`revoke`): it becomes `unauthorized`.
    @discardableResult
    func remove(_ key: GrantKey, message: String, now: Date) async throws -> StatusTransition?
    /// Asks for a refresh of a grant at `at` (`POST /v1/refresh`, `refresh`); false if unknown.
    @discardableResult
    func requestRefresh(ofGrant id: Int64, at: Date, now: Date) async throws -> Bool
    func pruneEvents(olderThan cutoff: Date, limit: Int) async throws -> Int

    // MARK: Notifications outbox

    func enableNotifications(repeatAfter: TimeInterval)
    func onNotificationsQueued(_ wake: @escaping @Sendable () -> Void)
    func notificationsMayBeWaiting()
    func pendingNotifications(limit: Int) async throws -> [PendingNotification]
    func pendingNotificationCount() async throws -> Int
    func deleteNotification(id: Int64) async throws
    func markNotificationDelivered(id: Int64, by channel: NotificationChannel) async throws
    func countNotificationAttempt(id: Int64) async throws
}

extension SQLiteGrantStore: GrantStore {}
