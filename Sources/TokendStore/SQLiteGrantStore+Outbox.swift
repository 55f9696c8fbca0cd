import Foundation
import Synchronization
import TokendPolicy

/// One notification waiting in the outbox: the facts to tell, never a token.
public struct PendingNotification: Sendable, Equatable {
    public var id: Int64
    public var createdAt: Date
    public var event: NotificationEvent
    public var organisation: String
    /// `library`, `user` or `organisation`.
    public var kind: String
    public var subject: String
    public var status: GrantStatus
    public var previousStatus: GrantStatus?
    public var reason: String
    public var authorizedByEmail: String?
    /// Delivered to the command already (a retry then only calls the webhook).
    public var commandDone: Bool
    public var webhookDone: Bool
    public var attempts: Int

    public init(
        id: Int64, createdAt: Date, event: NotificationEvent, organisation: String, kind: String, subject: String,
        status: GrantStatus, previousStatus: GrantStatus?, reason: String, authorizedByEmail: String?,
        commandDone: Bool, webhookDone: Bool, attempts: Int
    ) {
        self.id = id
        self.createdAt = createdAt
        self.event = event
        self.organisation = organisation
        self.kind = kind
        self.subject = subject
        self.status = status
        self.previousStatus = previousStatus
        self.reason = reason
        self.authorizedByEmail = authorizedByEmail
        self.commandDone = commandDone
        self.webhookDone = webhookDone
        self.attempts = attempts
    }
}

/// A way of delivering a notification, remembered per row so a retry does not repeat one that worked.
public enum NotificationChannel: Sendable {
    case command, webhook
}

/// Whether this process's status changes queue notifications (`[notify]` configured), and whom to
/// wake when a write queued one.
public final class NotificationOutbox: Sendable {
    private struct State {
        var repeatAfter: TimeInterval?
        var wake: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    public init() {}

    public var repeatAfter: TimeInterval? { state.withLock { $0.repeatAfter } }

    public func enable(repeatAfter: TimeInterval) { state.withLock { $0.repeatAfter = repeatAfter } }

    public func onQueued(_ wake: @escaping @Sendable () -> Void) { state.withLock { $0.wake = wake } }

    /// Called after the commit of a write that queued notifications.
    public func queued(_ any: Bool) {
        guard any, let wake = state.withLock({ $0.wake }) else { return }
        wake()
    }
}

extension SQLiteGrantStore {
    /// From now on, status changes written through this store queue notifications, each subject
    /// and topic at most once per `repeatAfter`. Without it (no `[notify]`), none are queued.
    public func enableNotifications(repeatAfter: TimeInterval) {
        outbox.enable(repeatAfter: repeatAfter)
    }

    /// `wake` is called after every durable write that queued a notification.
    public func onNotificationsQueued(_ wake: @escaping @Sendable () -> Void) {
        outbox.onQueued(wake)
    }

    /// Wakes the delivery as a write of this process would: another process (`import`) may have
    /// queued notifications in the database.
    public func notificationsMayBeWaiting() {
        outbox.queued(true)
    }

    /// The oldest undelivered notifications, in the order they were queued.
    public func pendingNotifications(limit: Int = 100) throws -> [PendingNotification] {
        try read { db in
            let row = try db.prepare("""
                SELECT id, created_at, event, organisation, kind, subject, status, previous_status, reason,
                    authorized_by_email, command_done, webhook_done, attempts
                FROM notifications ORDER BY id LIMIT ?
                """).bind(limit)
            var result: [PendingNotification] = []
            while try row.step() {
                result.append(PendingNotification(
                    id: row.int64(0), createdAt: row.date(1) ?? .distantPast,
                    event: NotificationEvent(rawValue: row.string(2) ?? "") ?? .problem,
                    organisation: row.string(3) ?? "", kind: row.string(4) ?? "", subject: row.string(5) ?? "",
                    status: GrantStatus(rawValue: row.string(6) ?? "") ?? .unauthorized,
                    previousStatus: row.string(7).flatMap(GrantStatus.init(rawValue:)),
                    reason: row.string(8) ?? "", authorizedByEmail: row.string(9),
                    commandDone: row.int64(10) != 0, webhookDone: row.int64(11) != 0, attempts: row.int(12) ?? 0))
            }
            return result
        }
    }

    /// How many notifications wait for delivery (for `status`).
    public func pendingNotificationCount() throws -> Int {
        try read { db in Int(try db.scalarInt("SELECT count(*) FROM notifications")) }
    }

    /// Removes a delivered notification.
    public func deleteNotification(id: Int64) async throws {
        try await write { db in try db.prepare("DELETE FROM notifications WHERE id = ?").bind(id).run() }
    }

    /// Remembers that `channel` delivered notification `id`, so a retry of the other does not repeat it.
    public func markNotificationDelivered(id: Int64, by channel: NotificationChannel) async throws {
        let column = channel == .command ? "command_done" : "webhook_done"
        try await write { db in try db.prepare("UPDATE notifications SET \(column) = 1 WHERE id = ?").bind(id).run() }
    }

    /// Counts a failed delivery attempt of notification `id`.
    public func countNotificationAttempt(id: Int64) async throws {
        try await write { db in try db.prepare("UPDATE notifications SET attempts = attempts + 1 WHERE id = ?").bind(id).run() }
    }

    // MARK: Inside the status change's transaction

    /// Queues the notification a status change of `key` asks for (NotificationRule), unless
    /// notifications are off (`repeatAfter` nil) or it repeats one announced less than `repeatAfter` ago.
    /// Returns whether one was queued.
    static func queueNotification(
        _ db: SQLiteConnection, key: GrantKey, previous: GrantStatus?, current: GrantStatus,
        refreshTokenWarning: Bool = false, repeatAfter: TimeInterval?, now: Date
    ) throws -> Bool {
        guard let repeatAfter,
              let cause = NotificationRule.decide(
                key: key, previous: previous, current: current, refreshTokenWarning: refreshTokenWarning)
        else { return false }
        let subject = cause.subject
        let mark = try db.prepare("""
            SELECT announced_at FROM notification_marks WHERE organisation = ? AND kind = ? AND subject = ? AND topic = ?
            """).bind(subject.organisation, subject.kind, subject.id, cause.topic)
        let last = try mark.step() ? mark.date(0) : nil
        if NotificationRule.isRepeat(lastAnnounced: last, now: now, repeatAfter: repeatAfter) { return false }
        var email: String?
        if case .grant = subject {
            let row = try db.prepare("SELECT user_email FROM grants WHERE organisation = ? AND kind = ? AND subject = ?")
                .bind(key.organisation, key.kind.rawValue, key.subject)
            email = try row.step() ? row.string(0) : nil
        }
        try db.prepare("""
            INSERT INTO notifications (created_at, event, organisation, kind, subject, status, previous_status, reason, authorized_by_email)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).bind(now, cause.event.rawValue, subject.organisation, subject.kind, subject.id, current.rawValue,
                      previous?.rawValue, cause.reason, email).run()
        try db.prepare("""
            INSERT INTO notification_marks (organisation, kind, subject, topic, announced_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (organisation, kind, subject, topic) DO UPDATE SET announced_at = excluded.announced_at
            """).bind(subject.organisation, subject.kind, subject.id, cause.topic, now).run()
        return true
    }
}
