import Foundation
import PostgresNIO
import TokendPolicy
import TokendStore

extension PostgresGrantStore {
    public func enableNotifications(repeatAfter: TimeInterval) { outbox.enable(repeatAfter: repeatAfter) }

    public func onNotificationsQueued(_ wake: @escaping @Sendable () -> Void) { outbox.onQueued(wake) }

    public func notificationsMayBeWaiting() { outbox.queued(true) }

    public func pendingNotifications(limit: Int = 100) async throws -> [PendingNotification] {
        try await query("""
            SELECT id, created_at, event, organisation, kind, subject, status, previous_status, reason,
                authorized_by_email, command_done, webhook_done, attempts
            FROM notifications ORDER BY id LIMIT \(Int64(limit))
            """).collect { row in
                PendingNotification(
                    id: try row.int64(0), createdAt: try row.date(1) ?? .distantPast,
                    event: NotificationEvent(rawValue: try row.string(2) ?? "") ?? .problem,
                    organisation: try row.string(3) ?? "", kind: try row.string(4) ?? "", subject: try row.string(5) ?? "",
                    status: GrantStatus(rawValue: try row.string(6) ?? "") ?? .unauthorized,
                    previousStatus: try row.string(7).flatMap(GrantStatus.init(rawValue:)),
                    reason: try row.string(8) ?? "", authorizedByEmail: try row.string(9),
                    commandDone: try row.bool(10), webhookDone: try row.bool(11), attempts: try row.int(12) ?? 0)
            }
    }

    public func pendingNotificationCount() async throws -> Int {
        Int(try await query("SELECT count(*) FROM notifications").first { try $0.int64(0) } ?? 0)
    }

    public func deleteNotification(id: Int64) async throws {
        try await transaction { db in try await db.query("DELETE FROM notifications WHERE id = \(id)", logger: logger) }
    }

    public func markNotificationDelivered(id: Int64, by channel: NotificationChannel) async throws {
        let column = channel == .command ? "command_done" : "webhook_done"
        try await transaction { db in
            try await db.query("UPDATE notifications SET \(unescaped: column) = true WHERE id = \(id)", logger: logger)
        }
    }

    public func countNotificationAttempt(id: Int64) async throws {
        try await transaction { db in
            try await db.query("UPDATE notifications SET attempts = attempts + 1 WHERE id = \(id)", logger: logger)
        }
    }

    /// As SQLite's: queues what `NotificationRule` asks for, unless off or a repeat within `repeatAfter`.
    func queueNotification(
        _ db: PostgresConnection, key: GrantKey, previous: GrantStatus?, current: GrantStatus,
        refreshTokenWarning: Bool = false, repeatAfter: TimeInterval?, now: Date
    ) async throws -> Bool {
        guard let repeatAfter,
              let cause = NotificationRule.decide(key: key, previous: previous, current: current, refreshTokenWarning: refreshTokenWarning)
        else { return false }
        let subject = cause.subject
        let last = try await db.query("""
            SELECT announced_at FROM notification_marks
            WHERE organisation = \(subject.organisation) AND kind = \(subject.kind) AND subject = \(subject.id) AND topic = \(cause.topic)
            FOR UPDATE
            """, logger: logger).first { try $0.date(0) } ?? nil
        if NotificationRule.isRepeat(lastAnnounced: last, now: now, repeatAfter: repeatAfter) { return false }
        var email: String?
        if case .grant = subject {
            email = try await db.query("""
                SELECT user_email FROM grants WHERE organisation = \(key.organisation) AND kind = \(key.kind.rawValue) AND subject = \(key.subject)
                """, logger: logger).first { try $0.string(0) } ?? nil
        }
        try await db.query("""
            INSERT INTO notifications (created_at, event, organisation, kind, subject, status, previous_status, reason, authorized_by_email)
            VALUES (\(now.epoch), \(cause.event.rawValue), \(subject.organisation), \(subject.kind), \(subject.id), \(current.rawValue),
                    \(previous?.rawValue), \(cause.reason), \(email))
            """, logger: logger)
        try await db.query("""
            INSERT INTO notification_marks (organisation, kind, subject, topic, announced_at)
            VALUES (\(subject.organisation), \(subject.kind), \(subject.id), \(cause.topic), \(now.epoch))
            ON CONFLICT (organisation, kind, subject, topic) DO UPDATE SET announced_at = excluded.announced_at
            """, logger: logger)
        return true
    }
}
